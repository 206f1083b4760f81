"""The ``nats`` trigger: a JetStream durable pull consumer on one subject of a stream.

Keys: ``url`` (one or a list, default ``nats://127.0.0.1:4222``), ``subject`` (required;
wildcards allowed), ``stream`` (default ``FLOWAPP_<APP>_<NAME>``, or the stream that
already captures the subject), ``durable`` (default ``flowapp-<app>_<name>``),
``createStream`` (default true: the stream, and the dead-letter stream, are created if
missing), ``ackWait`` (default ``PT30S``).
``deadLetter: {subject, stream}`` (defaults ``flowapp.dead-letter.<stream>`` and
``<STREAM>_DEAD_LETTER``).

Event id: the ``Nats-Msg-Id`` header when the publisher set one (JetStream also dedupes
on it), else ``<stream>:<stream sequence>``; both survive redelivery. ``time`` is the
stream's timestamp of the message. Retries: ``nak(delay)`` with the trigger's backoff;
the delivery count is the consumer's ``num_delivered``. ``max_deliver`` is set a few
deliveries past ``maxRedeliveries`` only as a safety net: the trigger dead-letters first
and publishes the dead letter with ``Nats-Msg-Id`` = event id, so a repeated dead-letter
publish is deduplicated by JetStream.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from flowapp.triggers.base import DeadLetter, Incoming, Owner, TriggerConfig
from flowapp.triggers.errors import DeadLetterError, TriggerConnectionError
from flowapp.triggers.events import safe_url
from flowapp.triggers.fields import Fields

SUBJECT = r"[^.\s]+(\.[^.\s]+)*"
NAME = r"[A-Za-z0-9_-]+"
# Deliveries allowed beyond the trigger's own limit, so a message whose dead letter keeps
# failing to publish is eventually parked by the server instead of looping forever.
SAFETY_DELIVERIES = 3
_DRIVER_ERRORS = (nats.errors.Error, OSError, asyncio.TimeoutError)


@dataclass(frozen=True, slots=True)
class NatsConfig:
    servers: tuple[str, ...]
    subject: str
    stream: str
    durable: str
    create_stream: bool
    ack_wait: float
    dead_letter_subject: str
    dead_letter_stream: str


def parse_nats(body: Fields, dead_letter: Fields, owner: Owner) -> NatsConfig:
    stream = body.string("stream", default=default_stream(owner), pattern=NAME)
    return NatsConfig(
        servers=body.strings("url", default=("nats://127.0.0.1:4222",)),
        subject=body.required("subject", pattern=SUBJECT),
        stream=stream,
        durable=body.string("durable", default=f"flowapp-{owner.name('_')}", pattern=NAME),
        create_stream=body.boolean("createStream", default=True),
        ack_wait=body.duration("ackWait", default=30.0, minimum=0.1),
        dead_letter_subject=dead_letter.string(
            "subject", default=f"flowapp.dead-letter.{stream}", pattern=SUBJECT
        ),
        dead_letter_stream=dead_letter.string(
            "stream", default=f"{stream}_DEAD_LETTER", pattern=NAME
        ),
    )


def default_stream(owner: Owner) -> str:
    """``FLOWAPP_<APP>_<TRIGGER>``: dashes are kept, so ``_`` only separates the two."""
    if owner.app is None:
        return "FLOWAPP_" + owner.trigger.upper().replace("-", "_")
    return "FLOWAPP_" + owner.name("_").upper()


def nats_incoming(
    *,
    server: str,
    filter_subject: str,
    subject: str,
    data: bytes,
    headers: Mapping[str, str] | None,
    stream: str,
    sequence: int,
    delivered: int,
    timestamp: datetime | None,
) -> Incoming:
    """The :class:`Incoming` of one JetStream message (pure: testable without a server)."""
    headers = dict(headers or {})
    lowered = {k.lower(): v for k, v in headers.items()}
    return Incoming(
        id=lowered.get("nats-msg-id") or f"{stream}:{sequence}",
        source=f"{safe_url(server)}/{filter_subject}",
        subject=subject,
        body=data,
        headers=headers,
        time=timestamp,
        content_type=lowered.get("content-type"),
        deliveries=max(delivered, 1),
    )


class NatsSource:
    """The JetStream side of a ``nats`` trigger (see the module docstring)."""

    def __init__(self, config: TriggerConfig, settings: NatsConfig) -> None:
        self._config = config
        self._s = settings
        self._nc: NatsClient | None = None
        self._js: JetStreamContext | None = None
        self._sub: JetStreamContext.PullSubscription | None = None

    async def open(self) -> None:
        try:
            self._nc = await nats.connect(
                servers=list(self._s.servers),
                allow_reconnect=False,  # the runner reconnects, with its own backoff
                connect_timeout=2,
                # Without these the *first* connect retries each server for ~2 minutes
                # (0 would mean forever): fail fast so the status tells the truth.
                max_reconnect_attempts=1,
                reconnect_time_wait=0.1,
                error_cb=_ignore_error,
            )
            self._js = self._nc.jetstream()
            stream = await self._ensure_stream(self._s.stream, self._s.subject)
            await self._ensure_stream(self._s.dead_letter_stream, self._s.dead_letter_subject)
            self._sub = await self._jetstream.pull_subscribe(
                self._s.subject,
                durable=self._s.durable,
                stream=stream,
                config=self._consumer_config(),
                pending_msgs_limit=self._config.max_in_flight * 4,
            )
        except _DRIVER_ERRORS as exc:
            raise TriggerConnectionError(f"nats {self._s.servers[0]}: {exc!r}") from exc

    def _consumer_config(self) -> ConsumerConfig:
        return ConsumerConfig(
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self._s.ack_wait,
            max_deliver=self._config.max_redeliveries + 1 + SAFETY_DELIVERIES,
        )

    @property
    def _jetstream(self) -> JetStreamContext:
        if self._js is None:
            raise TriggerConnectionError("nats connection closed")
        return self._js

    async def _ensure_stream(self, stream: str, subject: str) -> str:
        """The stream to consume ``subject`` from: ``stream``, created if missing, unless
        another stream captures the subject already (JetStream lets one stream only
        capture a subject): that one is used, with this trigger's own durable consumer,
        so triggers of two apps on one subject each get every message."""
        try:
            await self._jetstream.stream_info(stream)
            return stream
        except nats.js.errors.NotFoundError:
            pass
        try:
            return await self._jetstream.find_stream_name_by_subject(subject)
        except nats.js.errors.NotFoundError:
            pass
        if not self._s.create_stream:
            raise TriggerConnectionError(f"nats stream {stream} does not exist")
        await self._jetstream.add_stream(name=stream, subjects=[subject])
        return stream

    async def receive(self, limit: int) -> Sequence[Msg]:
        if self._sub is None or self._nc is None or self._nc.is_closed:
            raise TriggerConnectionError("nats connection closed")
        try:
            return await self._sub.fetch(batch=limit, timeout=1.0)
        except (nats.errors.TimeoutError, TimeoutError):
            # An empty queue: nats-py raises either one depending on where its wait ends.
            return []
        except _DRIVER_ERRORS as exc:
            raise TriggerConnectionError(f"nats fetch: {exc!r}") from exc

    def describe(self, message: Msg) -> Incoming:
        meta = message.metadata
        return nats_incoming(
            server=self._s.servers[0],
            filter_subject=self._s.subject,
            subject=message.subject,
            data=message.data,
            headers=message.headers,
            stream=meta.stream,
            sequence=meta.sequence.stream,
            delivered=meta.num_delivered,
            timestamp=meta.timestamp,
        )

    async def ack(self, message: Msg) -> None:
        try:
            await message.ack()
        except _DRIVER_ERRORS as exc:
            raise TriggerConnectionError(f"nats ack: {exc!r}") from exc

    async def redeliver(self, message: Msg, delay: float) -> None:
        try:
            await message.nak(delay=delay)
        except _DRIVER_ERRORS as exc:
            raise TriggerConnectionError(f"nats nak: {exc!r}") from exc

    async def dead_letter(self, message: Msg, letter: DeadLetter) -> None:
        headers = {**(message.headers or {}), **letter.headers(), "Nats-Msg-Id": letter.event_id}
        try:
            await self._jetstream.publish(
                self._s.dead_letter_subject, message.data, headers=headers
            )
        except _DRIVER_ERRORS as exc:
            raise DeadLetterError(f"nats dead letter: {exc!r}") from exc

    async def close(self) -> None:
        nc, self._nc, self._js, self._sub = self._nc, None, None, None
        if nc is None or nc.is_closed:
            return
        with contextlib.suppress(*_DRIVER_ERRORS):
            await nc.flush(timeout=1)  # acks are fire-and-forget publishes: send them first
        with contextlib.suppress(*_DRIVER_ERRORS):
            await nc.close()


async def _ignore_error(exc: Exception) -> None:
    # Connection errors surface as exceptions from fetch/ack and become the trigger status.
    del exc
