"""The test brokers whose consumers keep their place in a session or a group: MQTT and
Kafka (see ``brokers.py`` for what every broker offers).

MQTT keeps nothing for a topic nobody subscribed to, so ``setup`` opens the trigger's
persistent session first (its client id, clean start off, a session expiry, a QoS 1
subscription): the messages published before ``flowapp up`` starts are queued in it.
Mosquitto queues at most ``max_queued_messages`` (1000 by default) per offline session,
which is why the tests publish 1,000 and not more. By default the messages carry no id of
their own: the event id is the trigger's digest of topic, packet id and payload, which is
what the crash test checks survives a redelivery. ``MqttBroker(message_ids=True)`` sets
the ``msg-id`` user property (the trigger's ``idProperty``) instead; only that survives a
publisher sending a message again (``replay``), which gets a new packet id.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiomqtt
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import TopicPartition
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from tests.integration.noloss.brokers import COMMON, TRIGGER, body, unique

MQTT_HOST, MQTT_PORT = "127.0.0.1", 1883
SESSION_SECONDS = 300
PARTITIONS = 2
ID_PROPERTY = "msg-id"


def _mqtt(client_id: str | None = None, *, expiry: int = 0, clean: bool = True) -> Any:
    connect = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    connect.SessionExpiryInterval = expiry
    return aiomqtt.Client(
        MQTT_HOST,
        MQTT_PORT,
        identifier=client_id,
        protocol=aiomqtt.ProtocolVersion.V5,
        clean_start=clean,
        properties=connect,
    )


class MqttBroker:
    kind = "mqtt"

    def __init__(self, *, message_ids: bool = False) -> None:
        self.u = u = unique()
        self.topic, self.dl_topic, self.client_id = f"noloss/{u}", f"noloss-dead/{u}", f"nl-{u}"
        self.message_ids = message_ids
        self.published = 0

    async def setup(self) -> None:
        async with _mqtt(self.client_id, expiry=SESSION_SECONDS, clean=False) as session:
            await session.subscribe(self.topic, qos=1)

    def trigger(self) -> dict[str, Any]:
        keys = {"url": f"mqtt://{MQTT_HOST}:{MQTT_PORT}", "topic": self.topic}
        mqtt = {**keys, "clientId": self.client_id, "sessionExpiry": "PT5M"}
        if self.message_ids:
            mqtt["idProperty"] = ID_PROPERTY
        return {"name": TRIGGER, "mqtt": mqtt, "deadLetter": {"topic": self.dl_topic}, **COMMON}

    async def publish(self, count: int) -> None:
        await self._send(range(self.published, self.published + count))
        self.published += count

    async def _send(self, numbers: range) -> None:
        async with _mqtt() as publisher:
            for n in numbers:
                properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
                if self.message_ids:
                    properties.UserProperty = [(ID_PROPERTY, f"{self.u}-{n}")]
                # QoS 1: returns on the broker's PUBACK, so the message is queued by then.
                await publisher.publish(self.topic, body(n), qos=1, properties=properties)

    async def acknowledged(self) -> None:
        return None  # Mosquitto does not tell a session's queue from outside

    async def pending(self) -> None:
        return None

    async def leftover(self) -> int:
        """Resume the session and count what the broker still sends (it then ends: the
        resumed session has no expiry)."""
        received = 0
        async with _mqtt(self.client_id, clean=False) as session:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.5):
                    async for _ in session.messages:
                        received += 1
        return received

    async def replay(self) -> None:
        assert self.message_ids, "without an id property a message sent again is a new one"
        await self._send(range(self.published))

    async def cleanup(self) -> None:
        async with _mqtt(self.client_id):  # clean start, no expiry: the session is gone
            pass


class KafkaBroker:
    """A topic of two partitions; the event id is ``topic:partition:offset``."""

    kind = "kafka"

    def __init__(self, bootstrap: str) -> None:
        u = unique()
        self.bootstrap = bootstrap
        self.topic, self.dl_topic, self.group = f"noloss.{u}", f"noloss.dead.{u}", f"noloss-{u}"
        self.published = 0

    async def setup(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            topics = [NewTopic(self.topic, PARTITIONS, 1), NewTopic(self.dl_topic, 1, 1)]
            await admin.create_topics(topics)
        finally:
            await admin.close()
        # Reads the group's committed offsets; it never subscribes, so it never joins.
        self.offsets = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=self.group, enable_auto_commit=False
        )
        await self.offsets.start()

    def trigger(self) -> dict[str, Any]:
        # sessionTimeout: a restarted consumer's join waits until the killed member's
        # session has expired; the default (10 s) would dominate the test.
        keys = {"bootstrapServers": self.bootstrap, "topic": self.topic, "group": self.group}
        return {
            "name": TRIGGER,
            "kafka": {**keys, "sessionTimeout": "PT1S"},
            "deadLetter": {"topic": self.dl_topic},
            **COMMON,
        }

    async def publish(self, count: int) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
        await producer.start()
        try:
            sent = [
                await producer.send(self.topic, body(n))
                for n in range(self.published, self.published + count)
            ]
            await asyncio.gather(*sent)
        finally:
            await producer.stop()
        self.published += count

    async def committed(self) -> int:
        positions = [
            await self.offsets.committed(TopicPartition(self.topic, partition))
            for partition in range(PARTITIONS)
        ]
        return sum(position or 0 for position in positions)

    async def acknowledged(self) -> int:
        return await self.committed()  # records past the commit are read again

    async def pending(self) -> int:
        return self.published - await self.committed()

    async def leftover(self) -> int:
        return await self.pending()

    async def replay(self) -> None:
        """Commit offset 0 for every partition, as a member of the (idle) group: Tansu
        refuses commits from outside the group."""
        rewinder = AIOKafkaConsumer(
            self.topic,
            bootstrap_servers=self.bootstrap,
            group_id=self.group,
            enable_auto_commit=False,
            session_timeout_ms=1000,
            heartbeat_interval_ms=300,
        )
        await rewinder.start()
        try:
            async with asyncio.timeout(20):
                while len(rewinder.assignment()) < PARTITIONS:
                    await asyncio.sleep(0.05)
            await rewinder.commit({tp: 0 for tp in rewinder.assignment()})
        finally:
            await rewinder.stop()

    async def cleanup(self) -> None:
        await self.offsets.stop()
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        with contextlib.suppress(Exception):
            await admin.delete_topics([self.topic, self.dl_topic])
        await admin.close()
