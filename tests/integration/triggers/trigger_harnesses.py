"""One harness per broker, so the same test bodies run against every trigger kind.

A harness owns uniquely named broker resources (uuid suffix: other engineers' tests share
these servers), gives the trigger item that reads them, publishes test messages, reads
the dead-letter destination back and removes everything afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any, Protocol

import aio_pika
import aiomqtt
import nats
import nats.js.errors
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import TopicPartition
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

NATS_URL = "nats://127.0.0.1:4222"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True)
class Letter:
    body: bytes
    headers: dict[str, str]


class Harness(Protocol):
    kind: str
    subject: str  # the CloudEvents subject the published messages get
    source_prefix: str

    async def setup(self) -> None: ...
    def item(self, **common: Any) -> dict[str, Any]: ...
    def unreachable_item(self) -> dict[str, Any]: ...
    async def publish(self, bodies: list[bytes]) -> None: ...
    async def dead_letters(self) -> list[Letter]: ...
    async def cleanup(self) -> None: ...


def unique() -> str:
    return uuid.uuid4().hex[:10]


def closed_port() -> int:
    """A port nothing listens on (bound and released at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def count_acks(trigger: Any) -> Counter[str]:
    """Wrap the trigger's source so every acknowledgement is counted by event id."""
    source, counts = trigger.source, Counter[str]()
    original = source.ack

    async def ack(message: Any) -> None:
        await original(message)
        counts[source.describe(message).id] += 1

    source.ack = ack
    return counts


def text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes | bytearray) else str(value)


class NatsHarness:
    kind = "nats"

    def __init__(self) -> None:
        u = unique()
        self.name, self.subject = f"t-{u}", f"flowapp.test.{u}"
        self.stream, self.dl_subject, self.dl_stream = f"T_{u}", f"flowapp.dl.{u}", f"TDL_{u}"
        self.source_prefix = f"{NATS_URL}/{self.subject}"

    async def setup(self) -> None:
        self.nc = await nats.connect(NATS_URL)
        self.js = self.nc.jetstream()

    def item(self, **common: Any) -> dict[str, Any]:
        nats_keys = {"url": NATS_URL, "subject": self.subject, "stream": self.stream}
        return {
            "name": self.name,
            "nats": {**nats_keys, "ackWait": "PT1S"},
            "deadLetter": {"subject": self.dl_subject, "stream": self.dl_stream},
            **common,
        }

    def unreachable_item(self) -> dict[str, Any]:
        url = f"nats://127.0.0.1:{closed_port()}"
        return {"name": self.name, "nats": {"url": url, "subject": self.subject}}

    async def publish(self, bodies: list[bytes]) -> None:
        for body in bodies:
            await self.js.publish(self.subject, body, headers={"X-Trace": "abc"})

    async def dead_letters(self) -> list[Letter]:
        try:
            info = await self.js.stream_info(self.dl_stream)
        except nats.js.errors.NotFoundError:
            return []
        letters = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            raw = await self.js.get_msg(self.dl_stream, seq)
            letters.append(Letter(raw.data or b"", dict(raw.headers or {})))
        return letters

    async def cleanup(self) -> None:
        for stream in (self.stream, self.dl_stream):
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await self.js.delete_stream(stream)
        await self.nc.close()


class RabbitHarness:
    kind = "rabbitmq"

    def __init__(self) -> None:
        u = unique()
        self.name, self.queue = f"t-{u}", f"flowapp.test.{u}"
        self.exchange, self.dl_queue = f"flowapp.test.x.{u}", f"flowapp.test.dl.{u}"
        self.subject = "orders.created"
        self.source_prefix = f"amqp://127.0.0.1:5672/{self.queue}"
        self._letters: list[Letter] = []

    async def setup(self) -> None:
        self.conn = await aio_pika.connect(AMQP_URL)
        self.channel = await self.conn.channel(publisher_confirms=True)

    def item(self, **common: Any) -> dict[str, Any]:
        rabbit = {"url": AMQP_URL, "queue": self.queue, "exchange": self.exchange}
        return {
            "name": self.name,
            "rabbitmq": {**rabbit, "routingKey": "orders.*"},
            "deadLetter": {"queue": self.dl_queue},
            **common,
        }

    def unreachable_item(self) -> dict[str, Any]:
        url = f"amqp://guest:guest@127.0.0.1:{closed_port()}/"
        return {"name": self.name, "rabbitmq": {"url": url, "queue": self.queue}}

    async def publish(self, bodies: list[bytes]) -> None:
        exchange = await self.channel.get_exchange(self.exchange)
        for body in bodies:
            message = aio_pika.Message(body, headers={"x-trace": "abc"})
            await exchange.publish(message, routing_key=self.subject)

    async def dead_letters(self) -> list[Letter]:
        queue = await self.channel.get_queue(self.dl_queue)
        while (message := await queue.get(no_ack=True, fail=False)) is not None:
            headers = {k: text(v) for k, v in (message.headers or {}).items()}
            self._letters.append(Letter(message.body, headers))
        return self._letters

    async def cleanup(self) -> None:
        for queue in (self.queue, self.dl_queue):
            with contextlib.suppress(Exception):
                await self.channel.queue_delete(queue)
        with contextlib.suppress(Exception):
            await self.channel.exchange_delete(self.exchange)
        await self.conn.close()


class RedisHarness:
    kind = "redis"

    def __init__(self) -> None:
        u = unique()
        self.name, self.subject = f"t-{u}", f"flowapp:test:{u}"
        self.dl_stream, self.group, self.consumer = f"flowapp:test:dl:{u}", f"g-{u}", f"c-{u}"
        self.source_prefix = f"{REDIS_URL}/{self.subject}"

    async def setup(self) -> None:
        self.client = aioredis.from_url(REDIS_URL)

    def item(self, **common: Any) -> dict[str, Any]:
        stream = {"url": REDIS_URL, "stream": self.subject, "group": self.group}
        return {
            "name": self.name,
            "redis": {**stream, "consumer": self.consumer, "claimIdle": "PT30S"},
            "deadLetter": {"stream": self.dl_stream},
            **common,
        }

    def unreachable_item(self) -> dict[str, Any]:
        url = f"redis://127.0.0.1:{closed_port()}/0"
        return {"name": self.name, "redis": {"url": url, "stream": self.subject}}

    async def publish(self, bodies: list[bytes]) -> None:
        for body in bodies:
            await self.client.xadd(self.subject, {"data": body, "x-trace": "abc"})

    async def dead_letters(self) -> list[Letter]:
        letters = []
        for _, fields in await self.client.xrange(self.dl_stream):
            headers = {text(k): text(v) for k, v in fields.items() if k != b"data"}
            letters.append(Letter(fields.get(b"data", b""), headers))
        return letters

    async def cleanup(self) -> None:
        await self.client.delete(self.subject, self.dl_stream)
        await self.client.aclose()


class MqttHarness:
    kind = "mqtt"

    def __init__(self) -> None:
        u = unique()
        self.name, self.topic = f"t-{u}", f"flowapp/test/{u}/#"
        self.subject, self.dl_topic = f"flowapp/test/{u}/orders", f"flowapp/test-dl/{u}"
        self.client_id = f"flowapp-test-{u}"
        self.source_prefix = f"mqtt://127.0.0.1:1883/{self.topic}"
        self._letters: list[Letter] = []

    async def setup(self) -> None:
        # MQTT keeps nothing for topics nobody subscribed to: listen to the dead letters first.
        self.collector = aiomqtt.Client("127.0.0.1", 1883, protocol=aiomqtt.ProtocolVersion.V5)
        await self.collector.__aenter__()
        await self.collector.subscribe(self.dl_topic, qos=1)
        self._collecting = asyncio.create_task(self._collect())
        self.publisher = aiomqtt.Client("127.0.0.1", 1883, protocol=aiomqtt.ProtocolVersion.V5)
        await self.publisher.__aenter__()

    async def _collect(self) -> None:
        async for message in self.collector.messages:
            headers = dict(getattr(message.properties, "UserProperty", None) or [])
            self._letters.append(Letter(bytes(message.payload), headers))  # type: ignore[arg-type]

    def item(self, **common: Any) -> dict[str, Any]:
        mqtt = {"url": "mqtt://127.0.0.1:1883", "topic": self.topic, "clientId": self.client_id}
        return {
            "name": self.name,
            "mqtt": {**mqtt, "sessionExpiry": "PT60S"},
            "deadLetter": {"topic": self.dl_topic},
            **common,
        }

    def unreachable_item(self) -> dict[str, Any]:
        url = f"mqtt://127.0.0.1:{closed_port()}"
        return {"name": self.name, "mqtt": {"url": url, "topic": self.topic}}

    async def publish(self, bodies: list[bytes]) -> None:
        for body in bodies:
            props = Properties(PacketTypes.PUBLISH)
            props.UserProperty = [("x-trace", "abc")]
            await self.publisher.publish(self.subject, body, qos=1, properties=props)

    async def dead_letters(self) -> list[Letter]:
        return self._letters

    async def cleanup(self) -> None:
        self._collecting.cancel()
        with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
            await self._collecting
        for client in (self.collector, self.publisher):
            with contextlib.suppress(aiomqtt.MqttError):
                await client.__aexit__(None, None, None)
        # Drop the trigger's persistent session: a clean start with no expiry discards it.
        forget = aiomqtt.Client(
            "127.0.0.1", 1883, identifier=self.client_id, protocol=aiomqtt.ProtocolVersion.V5
        )
        async with forget:
            pass


class KafkaHarness:
    kind = "kafka"

    def __init__(self, bootstrap: str) -> None:
        u = unique()
        self.bootstrap, self.name = bootstrap, f"t-{u}"
        self.subject, self.dl_topic, self.group = f"flowapp.test.{u}", f"flowapp.dl.{u}", f"g-{u}"
        self.source_prefix = f"kafka://{bootstrap}/{self.subject}"

    async def setup(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(self.subject, 2, 1), NewTopic(self.dl_topic, 1, 1)])
        finally:
            await admin.close()
        self.producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap)
        await self.producer.start()

    def item(self, **common: Any) -> dict[str, Any]:
        kafka = {"bootstrapServers": self.bootstrap, "topic": self.subject, "group": self.group}
        return {
            "name": self.name,
            "kafka": {**kafka, "sessionTimeout": "PT1S"},
            "deadLetter": {"topic": self.dl_topic},
            **common,
        }

    def unreachable_item(self) -> dict[str, Any]:
        servers = f"127.0.0.1:{closed_port()}"
        return {"name": self.name, "kafka": {"bootstrapServers": servers, "topic": self.subject}}

    async def publish(self, bodies: list[bytes]) -> None:
        for body in bodies:
            await self.producer.send_and_wait(self.subject, body, headers=[("x-trace", b"abc")])

    async def dead_letters(self) -> list[Letter]:
        reader = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await reader.start()
        try:
            partition = TopicPartition(self.dl_topic, 0)
            reader.assign([partition])
            await reader.seek_to_beginning(partition)
            batches = await reader.getmany(partition, timeout_ms=300)
        finally:
            await reader.stop()
        return [
            Letter(r.value or b"", {k: text(v) for k, v in r.headers})
            for r in batches.get(partition, [])
        ]

    async def cleanup(self) -> None:
        await self.producer.stop()
