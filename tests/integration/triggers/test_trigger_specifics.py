"""Behaviour that only some brokers have, checked on the broker's own bookkeeping."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

from flowapp.triggers import Backoff, build_trigger
from flowapp.triggers.testing import RecordingSink, eventually

from .trigger_harnesses import KafkaHarness, NatsHarness, RabbitHarness, RedisHarness, count_acks

RECONNECT = Backoff(delay=0.05, maximum=0.5)


async def started(item: dict[str, Any], sink: Any) -> Any:
    trigger = build_trigger(item, reconnect=RECONNECT)
    await trigger.start(sink)
    await eventually(lambda: trigger.status().ready, timeout=15)
    return trigger


@pytest.fixture
async def rabbit() -> Any:
    harness = RabbitHarness()
    await harness.setup()
    yield harness
    await harness.cleanup()


def classic(rabbit: RabbitHarness, **common: Any) -> dict[str, Any]:
    item = rabbit.item(backoffDelay="PT0.05S", **common)
    item["rabbitmq"]["queueType"] = "classic"
    return item


async def test_rabbitmq_classic_queue_redelivers_a_copy_with_the_same_id(
    rabbit: RabbitHarness,
) -> None:
    sink = RecordingSink(fail_first=1)
    trigger = await started(classic(rabbit), sink)
    acks = count_acks(trigger)
    await rabbit.publish([b'{"n": 1}'])
    await eventually(lambda: len(sink.events) == 1, timeout=10)
    await trigger.stop()
    assert list(sink.attempts.values()) == [2]  # the republished copy kept the id
    assert sink.events[0]["subject"] == "orders.created"  # and the original routing key
    assert list(acks.values()) == [1]  # the copy; the original was acked by redeliver()
    queue = await rabbit.channel.declare_queue(rabbit.queue, passive=True)
    assert queue.declaration_result.message_count == 0


async def test_rabbitmq_classic_queue_dead_letters_past_the_limit(rabbit: RabbitHarness) -> None:
    sink = RecordingSink(fail_always=True)
    trigger = await started(classic(rabbit, maxRedeliveries=1), sink)
    await rabbit.publish([b'{"n": 2}'])
    for _ in range(200):
        if await rabbit.dead_letters():
            break
        await asyncio.sleep(0.05)
    await trigger.stop()
    [letter] = await rabbit.dead_letters()
    assert letter.headers["flowapp-deliveries"] == "2"
    assert letter.headers["x-flowapp-routing-key"] == "orders.created"
    assert list(sink.attempts.values()) == [2]


async def test_redis_claims_entries_a_crashed_consumer_left_pending() -> None:
    harness = RedisHarness()
    await harness.setup()
    try:
        crashed_item = harness.item()
        never = asyncio.Event()
        entered: list[str] = []

        async def stuck(event: dict[str, Any]) -> None:
            entered.append(event["id"])
            await never.wait()

        crashed = await started(crashed_item, stuck)
        await harness.publish([b'{"n": 1}', b'{"n": 2}'])
        await eventually(lambda: len(entered) == 2)
        await crashed.stop(drain_timeout=0)

        other = harness.item()
        other["redis"].update(consumer="another-host", claimIdle="PT0.2S")
        sink = RecordingSink()
        survivor = await started(other, sink)
        await eventually(lambda: len(sink.events) == 2, timeout=10)
        await survivor.stop()
        assert sorted(sink.ids) == sorted(entered)
        pending = await harness.client.xpending(harness.subject, harness.group)
        assert pending["pending"] == 0
    finally:
        await harness.cleanup()


async def test_kafka_commits_every_offset_in_order(tansu: str) -> None:
    harness = KafkaHarness(tansu)
    await harness.setup()
    try:
        sink = RecordingSink(delay=0.01)
        trigger = await started(harness.item(maxInFlight=8), sink)
        acks = count_acks(trigger)
        await harness.publish([orjson.dumps({"n": n}) for n in range(20)])
        await eventually(lambda: sum(acks.values()) == 20, timeout=15)
        await trigger.stop()
        checker = AIOKafkaConsumer(bootstrap_servers=tansu, group_id=harness.group)
        await checker.start()
        try:
            partitions = [TopicPartition(harness.subject, p) for p in (0, 1)]
            committed = [await checker.committed(tp) or 0 for tp in partitions]
        finally:
            await checker.stop()
        per_partition = [
            sum(1 for e in sink.events if e["id"].split(":")[1] == str(p)) for p in (0, 1)
        ]
        assert committed == per_partition and sum(committed) == 20
    finally:
        await harness.cleanup()


async def test_nats_consumer_has_nothing_pending_after_processing() -> None:
    harness = NatsHarness()
    await harness.setup()
    try:
        sink = RecordingSink(fail_first=1)
        trigger = await started(harness.item(backoffDelay="PT0.05S"), sink)
        await harness.publish([b'{"n": 1}', b'{"n": 2}'])
        await eventually(lambda: len(sink.events) == 2, timeout=10)
        await trigger.stop()
        info = await harness.js.consumer_info(harness.stream, f"flowapp-{harness.name}")
        assert (info.num_ack_pending, info.num_pending) == (0, 0)
        assert info.num_redelivered == 0  # counted while pending only: all were acked
        assert info.delivered.stream_seq == 2
    finally:
        await harness.cleanup()
