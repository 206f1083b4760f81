"""The ``rabbitmq`` trigger: consume one queue, optionally bound to an exchange.

Keys: ``url`` (default ``amqp://guest:guest@127.0.0.1:5672/``), ``queue`` (default
``flowapp.<app>.<name>``), ``exchange`` + ``routingKey`` + ``exchangeType`` (bind the queue to an
exchange; type default ``topic``), ``queueType`` (``quorum``, default, or ``classic``),
``declare`` (default true: declare what is missing; existing entities are used as they
are, so their arguments never clash). ``deadLetter: {queue}`` (default
``flowapp.dead-letter.<app>.<name>``, declared) or ``deadLetter: {exchange, routingKey}``.

Event id: the ``message_id`` property, else a digest of body and headers (two identical
messages without an id are then one event). ``subject`` is the routing key, ``time`` the
``timestamp`` property when the publisher set one. ``prefetch_count = maxInFlight``.
Redelivery counting: quorum queues count in ``x-delivery-count`` (including messages
returned by a crashed consumer) and a failed message is ``nack(requeue=True)``-ed after the
backoff delay. Classic queues have no counter: the trigger republishes a copy to the same
queue with ``x-flowapp-redeliveries`` raised (publisher confirms, same message id) and then
acks the original. Dead letters are published with ``mandatory`` and confirms before the
original is acked.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aio_pika
import aio_pika.exceptions
import aiormq.exceptions
import orjson
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractIncomingMessage,
    AbstractQueue,
)

from flowapp.triggers.base import DeadLetter, Incoming, Owner, TriggerConfig
from flowapp.triggers.errors import DeadLetterError, TriggerConnectionError
from flowapp.triggers.events import digest_id, safe_url
from flowapp.triggers.fields import Fields

REDELIVERIES = "x-flowapp-redeliveries"
ROUTING_KEY = "x-flowapp-routing-key"
_COUNTERS = frozenset({"x-delivery-count", "x-death", REDELIVERIES, ROUTING_KEY})
_EXCHANGE_TYPES = ("direct", "fanout", "topic", "headers")
_DRIVER_ERRORS = (
    aiormq.exceptions.AMQPError,
    aio_pika.exceptions.ChannelInvalidStateError,
    OSError,
    asyncio.TimeoutError,
)


@dataclass(frozen=True, slots=True)
class RabbitConfig:
    url: str
    queue: str
    queue_type: str
    exchange: str | None
    exchange_type: str
    routing_key: str
    declare: bool
    dead_letter_queue: str | None
    dead_letter_exchange: str | None
    dead_letter_routing_key: str | None


def parse_rabbitmq(body: Fields, dead_letter: Fields, owner: Owner) -> RabbitConfig:
    name = owner.name(".")
    exchange = body.optional("exchange")
    exchange_type = body.choice("exchangeType", _EXCHANGE_TYPES, default="topic")
    if body.has("routingKey") and exchange is None:
        body.problem("routingKey", "`routingKey` needs an `exchange` to bind to")
    dl_exchange = dead_letter.optional("exchange")
    if dl_exchange is not None and dead_letter.has("queue"):
        dead_letter.problem(None, "give either `queue` or `exchange`, not both")
    return RabbitConfig(
        url=body.string("url", default="amqp://guest:guest@127.0.0.1:5672/"),
        queue=body.string("queue", default=f"flowapp.{name}"),
        queue_type=body.choice("queueType", ("quorum", "classic"), default="quorum"),
        exchange=exchange,
        exchange_type=exchange_type,
        routing_key=body.string("routingKey", default="#" if exchange_type == "topic" else ""),
        declare=body.boolean("declare", default=True),
        dead_letter_queue=None
        if dl_exchange
        else dead_letter.string("queue", default=f"flowapp.dead-letter.{name}"),
        dead_letter_exchange=dl_exchange,
        dead_letter_routing_key=dead_letter.optional("routingKey"),
    )


def rabbitmq_incoming(
    *,
    source: str,
    routing_key: str,
    body: bytes,
    headers: Mapping[str, Any],
    message_id: str | None,
    timestamp: datetime | None,
    content_type: str | None,
    redelivered: bool,
) -> Incoming:
    """The :class:`Incoming` of one AMQP delivery (pure: testable without a broker)."""
    stable = {k: v for k, v in headers.items() if k not in _COUNTERS}
    digest = digest_id(body, orjson.dumps(stable, default=str, option=orjson.OPT_SORT_KEYS))
    return Incoming(
        id=message_id or digest,
        source=source,
        subject=str(headers.get(ROUTING_KEY) or routing_key),
        body=body,
        headers=stable,
        time=timestamp,
        content_type=content_type,
        deliveries=delivery_count(headers, redelivered=redelivered),
    )


def delivery_count(headers: Mapping[str, Any], *, redelivered: bool) -> int:
    """This delivery's number: the quorum queue's count, else the one the trigger tracks."""
    if "x-delivery-count" in headers:
        return int(headers["x-delivery-count"]) + 1
    # A classic queue only says "redelivered" (e.g. after a consumer crash): count it once.
    return int(headers.get(REDELIVERIES, 0)) + 1 + (1 if redelivered else 0)


class RabbitSource:
    """The AMQP side of a ``rabbitmq`` trigger (see the module docstring)."""

    def __init__(self, config: TriggerConfig, settings: RabbitConfig) -> None:
        self._config = config
        self._s = settings
        self._source = f"{safe_url(settings.url)}/{settings.queue}"
        self._conn: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self._inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()

    async def open(self) -> None:
        try:
            self._conn = await aio_pika.connect(self._s.url, timeout=5)
            self._channel = await self._conn.channel(publisher_confirms=True)
            await self._channel.set_qos(prefetch_count=self._config.max_in_flight)
            queue = await self._declare_queue(self._s.queue, self._s.queue_type)
            await self._bind(queue)
            if self._s.dead_letter_queue:
                await self._declare_queue(self._s.dead_letter_queue, "classic")
            elif self._s.dead_letter_exchange and not await self._exists(
                exchange=self._s.dead_letter_exchange
            ):
                raise TriggerConnectionError(
                    f"rabbitmq dead-letter exchange {self._s.dead_letter_exchange} does not exist"
                )
            self._inbox = asyncio.Queue()
            await queue.consume(self._inbox.put, no_ack=False)
        except _DRIVER_ERRORS as exc:
            raise TriggerConnectionError(f"rabbitmq {self._source}: {exc!r}") from exc

    async def _declare_queue(self, name: str, queue_type: str) -> AbstractQueue:
        channel = self._open_channel()
        if await self._exists(queue=name):
            return await channel.declare_queue(name, passive=True)
        if not self._s.declare:
            raise TriggerConnectionError(f"rabbitmq queue {name} does not exist")
        args: dict[str, Any] = {"x-queue-type": queue_type} if queue_type == "quorum" else {}
        return await channel.declare_queue(name, durable=True, arguments=args)

    async def _bind(self, queue: AbstractQueue) -> None:
        if self._s.exchange is None:
            return
        channel = self._open_channel()
        if self._s.declare:
            await channel.declare_exchange(self._s.exchange, self._s.exchange_type, durable=True)
        await queue.bind(self._s.exchange, routing_key=self._s.routing_key)

    async def _exists(self, *, queue: str = "", exchange: str = "") -> bool:
        # A failed passive declare closes its channel, so probe on a throwaway one.
        if self._conn is None:
            raise TriggerConnectionError("rabbitmq connection closed")
        probe = await self._conn.channel()
        try:
            if queue:
                await probe.declare_queue(queue, passive=True)
            else:
                await probe.declare_exchange(exchange, passive=True)
        except aiormq.exceptions.ChannelNotFoundEntity:
            return False
        finally:
            if not probe.is_closed:
                await probe.close()
        return True

    def _open_channel(self) -> AbstractChannel:
        if self._channel is None or self._channel.is_closed:
            raise TriggerConnectionError("rabbitmq channel closed")
        return self._channel

    async def receive(self, limit: int) -> Sequence[AbstractIncomingMessage]:
        self._open_channel()  # a closed channel delivers nothing: reconnect instead of waiting
        try:
            first = await asyncio.wait_for(self._inbox.get(), timeout=1.0)
        except TimeoutError:
            return []
        batch = [first]
        while len(batch) < limit and not self._inbox.empty():
            batch.append(self._inbox.get_nowait())
        return batch

    def describe(self, message: AbstractIncomingMessage) -> Incoming:
        return rabbitmq_incoming(
            source=self._source,
            routing_key=message.routing_key or "",
            body=message.body,
            headers=dict(message.headers or {}),
            message_id=message.message_id,
            timestamp=message.timestamp,
            content_type=message.content_type,
            redelivered=bool(message.redelivered),
        )

    async def ack(self, message: AbstractIncomingMessage) -> None:
        try:
            await message.ack()
        except _DRIVER_ERRORS as exc:
            raise TriggerConnectionError(f"rabbitmq ack: {exc!r}") from exc

    async def redeliver(self, message: AbstractIncomingMessage, delay: float) -> None:
        await asyncio.sleep(delay)  # holds the message's slot: requeue would be immediate
        headers = message.headers or {}
        try:
            if "x-delivery-count" in headers or self._s.queue_type == "quorum":
                await message.nack(requeue=True)
                return
            incoming = self.describe(message)
            copy = self._copy(message, incoming, {REDELIVERIES: incoming.deliveries})
            await self._publish(copy, exchange="", routing_key=self._s.queue)
            await message.ack()
        except _DRIVER_ERRORS as exc:
            raise TriggerConnectionError(f"rabbitmq redelivery: {exc!r}") from exc

    async def dead_letter(self, message: AbstractIncomingMessage, letter: DeadLetter) -> None:
        copy = self._copy(message, self.describe(message), letter.headers())
        exchange = self._s.dead_letter_exchange or ""
        routing_key = self._s.dead_letter_queue or (
            self._s.dead_letter_routing_key or message.routing_key or ""
        )
        try:
            await self._publish(copy, exchange=exchange, routing_key=routing_key)
        except _DRIVER_ERRORS as exc:
            raise DeadLetterError(f"rabbitmq dead letter: {exc!r}") from exc

    def _copy(
        self, message: AbstractIncomingMessage, incoming: Incoming, extra: Mapping[str, Any]
    ) -> aio_pika.Message:
        """The message again, with the same id and original routing key, plus ``extra``."""
        headers = {**incoming.headers, ROUTING_KEY: incoming.subject, **extra}
        return aio_pika.Message(
            body=message.body,
            headers=headers,
            message_id=incoming.id,
            content_type=message.content_type,
            timestamp=message.timestamp,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )

    async def _publish(self, copy: aio_pika.Message, *, exchange: str, routing_key: str) -> None:
        channel = self._open_channel()
        # ensure=False: no passive declare per publish; open() checked that it exists.
        target = (
            await channel.get_exchange(exchange, ensure=False)
            if exchange
            else channel.default_exchange
        )
        # mandatory + confirms: returns only once the broker routed and stored the copy.
        await target.publish(copy, routing_key=routing_key, mandatory=True)

    async def close(self) -> None:
        conn, self._conn, self._channel = self._conn, None, None
        if conn is not None and not conn.is_closed:
            with contextlib.suppress(*_DRIVER_ERRORS):
                await conn.close()  # unacknowledged messages go back to the queue
