"""The broker on NATS JetStream, for several machines sharing one bus.

Layout, for ``nats://host:4222?stream=NAME``:

- stream ``NAME``, subject ``flowapp.NAME.events``: every event, as its CloudEvents JSON
  (the same bytes the SQLite store keeps). One subject with filters evaluated by
  subscribers, rather than a subject per event type, because Knative filters (prefix,
  suffix, any, not, extensions) cannot be expressed as NATS subject wildcards, and
  event types are not subject-safe. Retention is *interest*: an event stays until every
  subscription's consumer has acked it (delivered, filtered out or dead-lettered), and
  an event that no subscription exists for is dropped, as a Knative Broker drops it.
- each subscription: a durable pull consumer on that stream (``jetstream_consumer.py``).
- duplicates: ``Nats-Msg-Id`` = a digest of ``source`` + ``id``; the stream's
  ``duplicate_window`` (``dedupe_window``, 10 minutes by default) drops repeats.
- stream ``NAME_DEAD``, subjects ``flowapp.NAME.dead.<consumer>``: events a subscription
  gave up on with no sink (or a failing sink), with attempts and error, kept (limits
  retention) until an operator deletes them.

``publish`` returns once JetStream has acknowledged the event (stored on disk).
Connection and API failures become ``StoreError``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import httpx
import nats
import orjson
from nats.aio.client import Client as NatsClient
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from flowapp.events.attempt import Verdict
from flowapp.events.broker import DEDUPE_WINDOW
from flowapp.events.cloudevents import Event, event_key, to_json, validate_event
from flowapp.events.errors import BrokerError, StoreError
from flowapp.events.jetstream_consumer import ConsumerLoop, consumer_config
from flowapp.events.sender import Sender
from flowapp.events.store import DeadLetter
from flowapp.events.subscription import Subscription

_STREAM_NAME = re.compile(r"^[A-Za-z0-9_-]{1,200}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def durable_name(subscription: str) -> str:
    """A consumer name for a subscription name: readable, NATS-safe, collision-free."""
    safe = _UNSAFE.sub("_", subscription)[:48]
    if safe == subscription:
        return safe
    return f"{safe}-{hashlib.sha256(subscription.encode()).hexdigest()[:10]}"


def dedupe_id(event: Event) -> str:
    """``Nats-Msg-Id`` for an event: its ``source`` + ``id``, unambiguous and header-safe."""
    return hashlib.sha256(orjson.dumps(event_key(event))).hexdigest()


class JetStreamBroker:
    def __init__(
        self,
        servers: str | Sequence[str],
        stream: str,
        *,
        http_client: httpx.AsyncClient | None = None,
        dedupe_window: float = DEDUPE_WINDOW,
    ) -> None:
        if not _STREAM_NAME.match(stream):
            raise BrokerError(f"stream name `{stream}` may hold only A-Z, a-z, 0-9, _ and -")
        self.servers = [servers] if isinstance(servers, str) else list(servers)
        self.stream, self.dead_stream = stream, f"{stream}_DEAD"
        self.subject, self.dead_subject = f"flowapp.{stream}.events", f"flowapp.{stream}.dead"
        self._http_client, self._dedupe_window = http_client, dedupe_window
        self._subscriptions: dict[str, Subscription] = {}
        self._loops: dict[str, ConsumerLoop] = {}
        self._nc: NatsClient | None = None
        self._js: JetStreamContext | None = None
        self._sender: Sender | None = None

    # --- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        if self._js is not None:
            return
        try:
            self._nc = await nats.connect(servers=self.servers, connect_timeout=5)
            self._js = self._nc.jetstream()
            await self._ensure_streams(self._js)
        except (OSError, NatsError) as exc:
            await self._close_connection()
            raise StoreError(f"JetStream at {', '.join(self.servers)}: {exc}") from exc
        self._sender = Sender(self._http_client)
        for subscription in self._subscriptions.values():
            await self._start_loop(subscription)

    async def stop(self) -> None:
        for loop in self._loops.values():
            await loop.stop()
        self._loops.clear()
        if self._sender is not None:
            await self._sender.aclose()
            self._sender = None
        await self._close_connection()

    async def _close_connection(self) -> None:
        if self._nc is not None and not self._nc.is_closed:
            await self._nc.close()
        self._nc = self._js = None

    async def _ensure_streams(self, js: JetStreamContext) -> None:
        events = StreamConfig(
            name=self.stream,
            subjects=[self.subject],
            retention=RetentionPolicy.INTEREST,
            storage=StorageType.FILE,
            duplicate_window=self._dedupe_window,
        )
        dead = StreamConfig(
            name=self.dead_stream,
            subjects=[f"{self.dead_subject}.>"],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
        )
        for config in (events, dead):
            try:
                await js.stream_info(config.name or "")
                await js.update_stream(config)
            except NotFoundError:
                await js.add_stream(config)

    # --- the broker ----------------------------------------------------------------

    async def publish(self, event: Event) -> None:
        js = self._require_started()
        checked = validate_event(event)
        headers = {"Nats-Msg-Id": dedupe_id(checked)}
        try:
            await js.publish(self.subject, to_json(checked), headers=headers)
        except NatsError as exc:
            raise StoreError(f"could not publish to JetStream stream {self.stream}: {exc}") from exc

    async def subscribe(self, subscription: Subscription) -> None:
        self._subscriptions[subscription.name] = subscription
        loop = self._loops.get(subscription.name)
        if self._js is None:
            return
        if loop is None:
            await self._start_loop(subscription)
            return
        await self._configure(self._js, subscription)
        loop.subscription = subscription  # applies from the next message on

    async def unsubscribe(self, name: str) -> None:
        js = self._require_started()
        self._subscriptions.pop(name, None)
        loop = self._loops.pop(name, None)
        if loop is not None:
            await loop.stop()
        try:
            await js.delete_consumer(self.stream, durable_name(name))
        except NotFoundError:
            pass
        except NatsError as exc:
            raise StoreError(f"could not delete the consumer of {name}: {exc}") from exc

    async def dead_letters(self, subscription: str | None = None) -> list[DeadLetter]:
        js = self._require_started()
        tail = durable_name(subscription) if subscription is not None else ">"
        subject, seq = f"{self.dead_subject}.{tail}", 1
        letters: list[DeadLetter] = []
        try:
            while len(letters) < 100:
                raw = await js.get_msg(self.dead_stream, seq=seq, subject=subject, next=True)
                letters.append(_dead_letter(raw.data or b""))
                seq = (raw.seq or seq) + 1
        except NotFoundError:
            pass  # no further message on that subject
        except NatsError as exc:
            raise StoreError(f"could not read dead letters: {exc}") from exc
        return letters

    def _require_started(self) -> JetStreamContext:
        if self._js is None:
            raise BrokerError("the broker is not started")
        return self._js

    async def _start_loop(self, subscription: Subscription) -> None:
        js, sender = self._require_started(), self._sender
        if sender is None:
            raise BrokerError("the broker is not started")
        loop = ConsumerLoop(
            subscription,
            js=js,
            stream=self.stream,
            durable=await self._configure(js, subscription),
            sender=sender,
            publish_reply=self.publish,
            record_dead=self._record_dead,
        )
        try:
            await loop.start()
        except NatsError as exc:
            raise StoreError(f"could not bind the consumer of {subscription.name}: {exc}") from exc
        self._loops[subscription.name] = loop

    async def _configure(self, js: JetStreamContext, subscription: Subscription) -> str:
        """Create the subscription's durable consumer, or update its editable settings."""
        durable = durable_name(subscription.name)
        config = consumer_config(subscription, durable=durable, subject=self.subject)
        try:
            await js.add_consumer(self.stream, config)
        except NatsError as exc:
            raise StoreError(
                f"could not set up the consumer of {subscription.name}: {exc}"
            ) from exc
        return durable

    async def _record_dead(
        self, subscription: Subscription, event: Event, verdict: Verdict
    ) -> None:
        js = self._require_started()
        record = {
            "subscription": subscription.name,
            "attempts": verdict.attempts,
            "error": verdict.error,
            "event": event,
        }
        subject = f"{self.dead_subject}.{durable_name(subscription.name)}"
        try:
            await js.publish(subject, orjson.dumps(record))
        except NatsError as exc:
            raise StoreError(f"could not record a dead letter: {exc}") from exc


def _dead_letter(raw: bytes) -> DeadLetter:
    record = orjson.loads(raw)
    return DeadLetter(record["subscription"], record["event"], record["attempts"], record["error"])
