"""The same trigger scenarios against every broker: nats, rabbitmq, redis, mqtt, kafka.

Each test starts a real trigger on the machine's server (Kafka: Tansu), publishes with the
broker's own client, and checks what the sink saw, what was acknowledged and what landed
in the dead-letter destination.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from flowapp.triggers import Backoff, TriggerState, build_trigger
from flowapp.triggers.testing import RecordingSink, eventually

from .trigger_harnesses import Harness, count_acks

RECONNECT = Backoff(delay=0.05, maximum=0.5)


async def started(harness: Harness, sink: Any, **common: Any) -> Any:
    trigger = build_trigger(harness.item(backoffDelay="PT0.05S", **common), reconnect=RECONNECT)
    await trigger.start(sink)
    await eventually(lambda: trigger.status().ready, timeout=15)
    return trigger


def numbered(count: int) -> list[bytes]:
    return [orjson.dumps({"n": n}) for n in range(count)]


async def test_every_message_becomes_one_event(harness: Harness) -> None:
    sink = RecordingSink()
    trigger = await started(harness, sink)
    acks = count_acks(trigger)
    await harness.publish(numbered(10))
    await eventually(lambda: len(sink.events) == 10 and sum(acks.values()) == 10, timeout=20)
    await trigger.stop()
    assert sorted(e["data"]["n"] for e in sink.events) == list(range(10))
    assert len(set(sink.ids)) == 10 and set(acks) == set(sink.ids)
    for event in sink.events:
        assert event["specversion"] == "1.0"
        assert event["type"] == f"dev.flowapp.trigger.{harness.kind}"
        assert event["source"].startswith(harness.source_prefix)
        assert event["subject"] == harness.subject
        assert event["datacontenttype"] == "application/json"
        assert event["xtrace"] == "abc"


async def test_a_failed_message_is_redelivered_then_acked_once(harness: Harness) -> None:
    sink = RecordingSink(fail_first=1)
    trigger = await started(harness, sink)
    acks = count_acks(trigger)
    await harness.publish(numbered(3))
    await eventually(lambda: len(sink.events) == 3, timeout=20)
    await asyncio.sleep(0.3)  # room for a stray extra delivery to show up
    await trigger.stop()
    # The same id on both deliveries: the attempts are counted per event id.
    assert sorted(sink.attempts.values()) == [2, 2, 2]
    assert dict(acks) == dict.fromkeys(sink.ids, 1)


async def test_a_message_that_always_fails_is_dead_lettered(harness: Harness) -> None:
    sink = RecordingSink(fail_always=True)
    trigger = await started(harness, sink, maxRedeliveries=2)
    acks = count_acks(trigger)
    await harness.publish([b'{"poison": true}'])
    await eventually(lambda: sum(acks.values()) == 1, timeout=20)
    await trigger.stop()
    [letter] = await harness.dead_letters()
    assert letter.body == b'{"poison": true}'
    assert letter.headers["flowapp-reason"].startswith("sink failed 3 times")
    assert letter.headers["flowapp-deliveries"] == "3"
    assert letter.headers["flowapp-trigger"] == harness.item()["name"]
    assert list(sink.attempts.values()) == [3]


async def test_a_message_too_large_goes_straight_to_the_dead_letter(harness: Harness) -> None:
    sink = RecordingSink()
    trigger = await started(harness, sink, maxBytes=64)
    acks = count_acks(trigger)
    await harness.publish([b"x" * 200])
    await eventually(lambda: sum(acks.values()) == 1, timeout=20)
    await trigger.stop()
    [letter] = await harness.dead_letters()
    assert letter.headers["flowapp-reason"] == "too large: 200 bytes > maxBytes 64"
    assert sink.attempts == {}


async def test_max_in_flight_is_respected(harness: Harness) -> None:
    sink = RecordingSink(delay=0.1)
    trigger = await started(harness, sink, maxInFlight=3)
    await harness.publish(numbered(12))
    await eventually(lambda: len(sink.events) == 12, timeout=20)
    await trigger.stop()
    assert sink.max_active == 3


async def test_unacknowledged_messages_go_to_the_next_instance(harness: Harness) -> None:
    entered: list[str] = []
    never = asyncio.Event()

    async def stuck_sink(event: dict[str, Any]) -> None:
        entered.append(event["id"])
        await never.wait()

    first = await started(harness, stuck_sink)
    await harness.publish(numbered(3))
    await eventually(lambda: len(entered) == 3, timeout=20)
    await first.stop(drain_timeout=0)  # like a crash: the sinks are cancelled, nothing acked

    sink = RecordingSink()
    second = await started(harness, sink)
    await eventually(lambda: len(sink.events) == 3, timeout=20)
    await second.stop()
    assert sorted(sink.ids) == sorted(entered)


async def test_a_broker_down_at_start_reports_not_ready(harness: Harness) -> None:
    trigger = build_trigger(harness.unreachable_item(), reconnect=RECONNECT)
    await trigger.start(RecordingSink())  # must not raise
    await eventually(lambda: trigger.status().error is not None, timeout=10)
    status = trigger.status()
    assert status.state is TriggerState.CONNECTING and not status.ready
    await asyncio.wait_for(trigger.stop(), timeout=5)
    assert trigger.status().state is TriggerState.STOPPED
