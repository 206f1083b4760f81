"""One test broker per queue trigger kind, so one test body runs against every kind.

A broker owns uniquely named resources (uuid suffix: the servers are shared with other
engineers' tests), gives the trigger item that reads them, publishes the numbered messages
``{"n": 0}`` … ``{"n": count - 1}`` (each with the id the trigger maps, where it maps one),
reads the broker's own bookkeeping back, and removes everything afterwards:

- ``acknowledged()``: right after a crash, how many messages the broker holds as done (the
  rest will be delivered again); None where the broker does not tell (MQTT).
- ``pending()``: while running, how many are not acknowledged yet (None: cannot tell).
- ``leftover()``: after a graceful stop, how many would still be delivered: must be 0.
- ``replay()``: while the platform is stopped, make the broker deliver every message
  published so far once more, with the same id (a consumer rewound, a producer's retry).

NATS, RabbitMQ and Redis are here; MQTT and Kafka in ``brokers_sessions.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any, Protocol

import aio_pika
import nats
import nats.js.errors
import orjson
import redis.asyncio as aioredis

NATS_URL = "nats://127.0.0.1:4222"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
REDIS_URL = "redis://127.0.0.1:6379/0"
TRIGGER = "messages"  # the trigger's name in tests/fixtures/noloss/*/flowapp.yaml
# Enough in flight to keep the platform busy, few enough that a kill catches a handful.
COMMON: dict[str, Any] = {"maxInFlight": 32, "backoffDelay": "PT0.2S"}


class Broker(Protocol):
    kind: str

    async def setup(self) -> None: ...
    def trigger(self) -> dict[str, Any]: ...
    async def publish(self, count: int) -> None: ...
    async def acknowledged(self) -> int | None: ...
    async def pending(self) -> int | None: ...
    async def leftover(self) -> int: ...
    async def replay(self) -> None: ...
    async def cleanup(self) -> None: ...


def unique() -> str:
    return uuid.uuid4().hex[:10]


def body(n: int) -> bytes:
    return orjson.dumps({"n": n})


class NatsBroker:
    """A JetStream stream; messages carry ``Nats-Msg-Id`` (the trigger's event id)."""

    kind = "nats"

    def __init__(self) -> None:
        self.u = u = unique()
        self.subject, self.stream, self.durable = f"noloss.{u}", f"NOLOSS_{u}", f"noloss-{u}"
        self.dl_subject, self.dl_stream = f"noloss.dead.{u}", f"NOLOSS_DL_{u}"
        self.published = 0

    async def setup(self) -> None:
        self.nc = await nats.connect(NATS_URL)
        self.js = self.nc.jetstream()
        await self.js.add_stream(name=self.stream, subjects=[self.subject])

    def trigger(self) -> dict[str, Any]:
        # ackWait: after a crash the server redelivers what the dead consumer held only
        # once this has passed, so it bounds the test's recovery time.
        nats_keys = {"url": NATS_URL, "subject": self.subject, "stream": self.stream}
        return {
            "name": TRIGGER,
            "nats": {**nats_keys, "durable": self.durable, "ackWait": "PT2S"},
            "deadLetter": {"subject": self.dl_subject, "stream": self.dl_stream},
            **COMMON,
        }

    async def publish(self, count: int) -> None:
        for n in range(self.published, self.published + count):
            await self.js.publish(self.subject, body(n), headers={"Nats-Msg-Id": f"{self.u}-{n}"})
        self.published += count

    async def _consumer(self) -> Any:
        return await self.js.consumer_info(self.stream, self.durable)

    async def acknowledged(self) -> int:
        info = await self._consumer()
        return self.published - int(info.num_pending + info.num_ack_pending)

    async def pending(self) -> int | None:
        try:
            info = await self._consumer()
        except nats.js.errors.NotFoundError:
            return None
        return int(info.num_pending + info.num_ack_pending)

    async def leftover(self) -> int:
        return await self.pending() or 0

    async def replay(self) -> None:
        # The trigger creates its durable consumer again, delivering the stream from the
        # start; the messages keep their Nats-Msg-Id.
        await self.js.delete_consumer(self.stream, self.durable)

    async def cleanup(self) -> None:
        for stream in (self.stream, self.dl_stream):
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await self.js.delete_stream(stream)
        await self.nc.close()


class RabbitBroker:
    """A quorum queue (the trigger's default); messages carry ``message_id``."""

    kind = "rabbitmq"

    def __init__(self) -> None:
        self.u = u = unique()
        self.queue, self.dl_queue = f"noloss.{u}", f"noloss.dead.{u}"
        self.published = 0

    async def setup(self) -> None:
        self.conn = await aio_pika.connect(AMQP_URL)
        self.channel = await self.conn.channel(publisher_confirms=True)
        await self.channel.declare_queue(
            self.queue, durable=True, arguments={"x-queue-type": "quorum"}
        )

    def trigger(self) -> dict[str, Any]:
        return {
            "name": TRIGGER,
            "rabbitmq": {"url": AMQP_URL, "queue": self.queue},
            "deadLetter": {"queue": self.dl_queue},
            **COMMON,
        }

    async def publish(self, count: int) -> None:
        await self._send(range(self.published, self.published + count))
        self.published += count

    async def _send(self, numbers: range) -> None:
        persistent = aio_pika.DeliveryMode.PERSISTENT
        for n in numbers:
            message = aio_pika.Message(
                body(n), message_id=f"{self.u}-{n}", delivery_mode=persistent
            )
            await self.channel.default_exchange.publish(message, routing_key=self.queue)

    async def _counts(self) -> tuple[int, int]:
        """(ready messages, consumers); unacknowledged deliveries are in neither."""
        queue = await self.channel.declare_queue(self.queue, passive=True)
        result = queue.declaration_result
        return result.message_count or 0, result.consumer_count or 0

    async def acknowledged(self) -> int:
        # The dead consumer's unacked messages are ready again once RabbitMQ has seen its
        # connection close (at once: the kernel closes the socket of a killed process).
        for _ in range(200):
            ready, consumers = await self._counts()
            if consumers == 0:
                return self.published - ready
            await asyncio.sleep(0.05)
        raise AssertionError("the killed consumer is still registered after 10 s")

    async def pending(self) -> int:
        return (await self._counts())[0]  # ready only: redeliveries in flight are not seen

    async def leftover(self) -> int:
        return await self.pending()  # after a stop, nothing is in flight any more

    async def replay(self) -> None:
        await self._send(range(self.published))  # a producer retrying: same message_id

    async def cleanup(self) -> None:
        for queue in (self.queue, self.dl_queue):
            with contextlib.suppress(Exception):
                await self.channel.queue_delete(queue)
        await self.conn.close()


class RedisBroker:
    """A stream read by a consumer group; the event id is the entry id."""

    kind = "redis"

    def __init__(self) -> None:
        u = unique()
        self.stream, self.dl_stream = f"noloss:{u}", f"noloss:dead:{u}"
        self.group, self.consumer = f"noloss-{u}", f"noloss-{u}"
        self.published = 0

    async def setup(self) -> None:
        self.client = aioredis.from_url(REDIS_URL)

    def trigger(self) -> dict[str, Any]:
        keys = {"url": REDIS_URL, "stream": self.stream, "group": self.group}
        return {
            "name": TRIGGER,
            "redis": {**keys, "consumer": self.consumer, "claimIdle": "PT30S"},
            "deadLetter": {"stream": self.dl_stream},
            **COMMON,
        }

    async def publish(self, count: int) -> None:
        async with self.client.pipeline(transaction=False) as pipe:
            for n in range(self.published, self.published + count):
                pipe.xadd(self.stream, {"data": body(n)})
            await pipe.execute()
        self.published += count

    async def _group(self) -> dict[str, Any] | None:
        with contextlib.suppress(aioredis.ResponseError):  # no stream yet
            for group in await self.client.xinfo_groups(self.stream):
                if group["name"].decode() == self.group:
                    return dict(group)
        return None

    async def acknowledged(self) -> int:
        group = await self._group()
        assert group is not None, "the trigger never created its group"
        return int(group["entries-read"] or 0) - int(group["pending"])

    async def pending(self) -> int | None:
        group = await self._group()
        if group is None:
            return None
        unread = self.published - int(group["entries-read"] or 0)
        return unread + int(group["pending"])

    async def leftover(self) -> int:
        return await self.pending() or 0

    async def replay(self) -> None:
        await self.client.xgroup_setid(self.stream, self.group, "0", entries_read=0)

    async def cleanup(self) -> None:
        await self.client.delete(self.stream, self.dl_stream)
        await self.client.aclose()
