"""Each kind's message -> Incoming -> CloudEvent mapping, without a broker."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiokafka.structs import ConsumerRecord
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from flowapp.triggers import TriggerConfig
from flowapp.triggers.events import to_cloudevent
from flowapp.triggers.kafka import OffsetTracker, kafka_incoming
from flowapp.triggers.mqtt import mqtt_incoming
from flowapp.triggers.nats import nats_incoming
from flowapp.triggers.rabbitmq import REDELIVERIES, ROUTING_KEY, delivery_count, rabbitmq_incoming
from flowapp.triggers.redis import RedisEntry, redis_incoming
from flowapp.triggers.rocketmq import rocketmq_incoming

WHEN = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def event_of(kind: str, incoming: object) -> dict[str, object]:
    config = TriggerConfig(name="orders", kind=kind, source=None)
    return to_cloudevent(incoming, config)  # type: ignore[arg-type]


def nats(**overrides: object) -> object:
    fields: dict[str, object] = {
        "server": "nats://user:pw@127.0.0.1:4222",
        "filter_subject": "orders.*",
        "subject": "orders.created",
        "data": b'{"n": 1}',
        "headers": {"X-Trace": "t"},
        "stream": "ORDERS",
        "sequence": 42,
        "delivered": 3,
        "timestamp": WHEN,
    }
    fields.update(overrides)
    return nats_incoming(**fields)  # type: ignore[arg-type]


def test_nats_id_is_the_stream_sequence() -> None:
    incoming = nats()
    assert (incoming.id, incoming.deliveries) == ("ORDERS:42", 3)  # type: ignore[attr-defined]
    event = event_of("nats", incoming)
    assert event["source"] == "nats://127.0.0.1:4222/orders.*"
    assert (event["subject"], event["time"], event["xtrace"]) == (
        "orders.created",
        "2026-05-01T12:00:00Z",
        "t",
    )


def test_nats_prefers_the_publishers_msg_id() -> None:
    assert nats(headers={"Nats-Msg-Id": "order-9"}).id == "order-9"  # type: ignore[attr-defined]


def rabbit(headers: dict[str, object], **overrides: object) -> object:
    fields: dict[str, object] = {
        "source": "amqp://127.0.0.1:5672/flowapp.orders",
        "routing_key": "orders.created",
        "body": b'{"n": 1}',
        "headers": headers,
        "message_id": None,
        "timestamp": WHEN,
        "content_type": "application/json",
        "redelivered": False,
    }
    fields.update(overrides)
    return rabbitmq_incoming(**fields)  # type: ignore[arg-type]


def test_rabbitmq_id_is_the_message_id_else_a_digest_stable_across_redelivery() -> None:
    assert rabbit({}, message_id="m-1").id == "m-1"  # type: ignore[attr-defined]
    first = rabbit({"x-trace": "t"})
    again = rabbit(
        {"x-trace": "t", "x-delivery-count": 2, ROUTING_KEY: "orders.created"},
        routing_key="flowapp.orders",
        redelivered=True,
    )
    assert first.id == again.id and first.id.startswith("sha256:")  # type: ignore[attr-defined]
    assert again.subject == "orders.created"  # type: ignore[attr-defined]
    assert "xdeliverycount" not in event_of("rabbitmq", again)


def test_rabbitmq_delivery_counts() -> None:
    assert delivery_count({}, redelivered=False) == 1
    assert delivery_count({"x-delivery-count": 2}, redelivered=True) == 3  # quorum queue
    assert delivery_count({REDELIVERIES: 2}, redelivered=False) == 3  # tracked copy
    assert delivery_count({}, redelivered=True) == 2  # classic queue after a crash


def test_redis_entry_with_a_data_field() -> None:
    entry = RedisEntry("1777636800000-0", {b"data": b'{"n": 1}', b"x-trace": b"t"}, 2)
    incoming = redis_incoming(
        source="redis://127.0.0.1:6379/0/orders", stream="orders", entry=entry, data_field="data"
    )
    assert (incoming.id, incoming.deliveries) == ("orders:1777636800000-0", 2)
    event = event_of("redis", incoming)
    assert event["time"] == "2026-05-01T12:00:00Z"
    assert (event["data"], event["xtrace"], event["subject"]) == ({"n": 1}, "t", "orders")


def test_redis_entry_without_the_data_field_is_an_object_of_fields() -> None:
    entry = RedisEntry("1-0", {b"a": b"1", b"b": b"two"}, 1)
    incoming = redis_incoming(source="s", stream="orders", entry=entry, data_field="data")
    assert event_of("redis", incoming)["data"] == {"a": "1", "b": "two"}


def test_mqtt_id_is_a_digest_of_topic_packet_id_and_payload() -> None:
    props = Properties(PacketTypes.PUBLISH)
    props.UserProperty = [("x-trace", "t")]
    props.ContentType = "application/json"

    def make(mid: int, properties: object = props, id_property: str | None = None) -> object:
        return mqtt_incoming(
            source="mqtt://127.0.0.1:1883/sensors/#",
            topic="sensors/a/temp",
            payload=b"21.5",
            mid=mid,
            properties=properties,
            id_property=id_property,
            deliveries=1,
        )

    assert make(7).id == make(7).id != make(8).id  # type: ignore[attr-defined]
    event = event_of("mqtt", make(7))
    assert (event["data"], event["xtrace"], event["subject"]) == (21.5, "t", "sensors/a/temp")
    assert "time" not in event
    assert make(7, id_property="x-trace").id == "t"  # type: ignore[attr-defined]
    assert make(7, properties=None).headers == {}  # type: ignore[attr-defined]


def test_kafka_id_is_topic_partition_offset() -> None:
    record: ConsumerRecord[bytes, bytes] = ConsumerRecord(
        topic="orders",
        partition=1,
        offset=99,
        timestamp=1777636800000,
        timestamp_type=0,
        key=b"customer-7",
        value=b'{"n": 1}',
        checksum=None,
        serialized_key_size=10,
        serialized_value_size=8,
        headers=(("x-trace", b"t"),),
    )
    incoming = kafka_incoming(bootstrap="127.0.0.1:9092", record=record, deliveries=1)
    event = event_of("kafka", incoming)
    assert event["id"] == "orders:1:99"
    assert event["source"] == "kafka://127.0.0.1:9092/orders"
    assert (event["partitionkey"], event["xtrace"]) == ("customer-7", "t")
    assert event["time"] == "2026-05-01T12:00:00Z"


def test_kafka_offsets_commit_in_order() -> None:
    tracker = OffsetTracker()
    for offset in (10, 11, 12, 13):
        tracker.received(offset)
    assert tracker.done(12) is None  # 10 and 11 still in flight
    assert tracker.done(10) == 11
    assert tracker.done(11) == 13  # 12 was already done
    assert tracker.done(13) == 14


@dataclass
class FakeRocketMessage:
    message_id: str = "7F0000010001"
    topic: str = "orders"
    body: bytes = b'{"n": 1}'
    tag: str | None = "created"
    properties: dict[str, str] = field(default_factory=lambda: {"x-trace": "t"})
    born_timestamp: int | None = 1777636800
    delivery_attempt: int | None = 2


def test_rocketmq_id_is_the_message_id() -> None:
    incoming = rocketmq_incoming(endpoints="127.0.0.1:8081", message=FakeRocketMessage())
    assert incoming.deliveries == 2
    event = event_of("rocketmq", incoming)
    assert (event["id"], event["source"]) == ("7F0000010001", "rocketmq://127.0.0.1:8081/orders")
    assert (event["rocketmqtag"], event["xtrace"]) == ("created", "t")
    assert event["time"] == "2026-05-01T12:00:00Z"
    millis = FakeRocketMessage(born_timestamp=1777636800000)
    assert rocketmq_incoming(endpoints="e", message=millis).time == WHEN
