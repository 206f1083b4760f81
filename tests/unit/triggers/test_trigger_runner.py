"""The broker runner against the in-memory fake: ack, retry, dead letter, back-pressure."""

from __future__ import annotations

import asyncio

import pytest

from flowapp.triggers import Backoff, TriggerConfig, TriggerState
from flowapp.triggers.inflight import InFlight
from flowapp.triggers.runner import BrokerTrigger
from flowapp.triggers.testing import MemorySource, RecordingSink, eventually

FAST = Backoff(delay=0.01, maximum=0.05)


def runner(source: MemorySource, **overrides: object) -> BrokerTrigger[object]:
    settings: dict[str, object] = {"backoff": Backoff(delay=0.001)}
    settings.update(overrides)
    config = TriggerConfig(name="orders", kind="memory", source=None, **settings)  # type: ignore[arg-type]
    return BrokerTrigger(config, source, reconnect=FAST)  # type: ignore[arg-type]


async def test_every_message_is_delivered_then_acked() -> None:
    source, sink = MemorySource(), RecordingSink()
    ids = [source.publish(b'{"n": %d}' % i) for i in range(5)]
    trigger = runner(source)
    await trigger.start(sink)
    await eventually(lambda: len(source.acked) == 5)
    await trigger.stop()
    assert sorted(sink.ids) == sorted(ids) and sorted(source.acked) == sorted(ids)
    assert sink.events[0]["type"] == "dev.flowapp.trigger.memory"
    assert trigger.status().state is TriggerState.STOPPED


async def test_nothing_is_acked_before_the_sink_returns() -> None:
    source, release = MemorySource(), asyncio.Event()
    source.publish(b"1")

    async def blocking_sink(event: dict[str, object]) -> None:
        await release.wait()

    trigger = runner(source)
    await trigger.start(blocking_sink)
    await eventually(lambda: bool(source.held))
    await asyncio.sleep(0.02)
    assert source.acked == []
    release.set()
    await eventually(lambda: source.acked == ["m1"])
    await trigger.stop()


async def test_a_failed_sink_is_redelivered_and_acked_once() -> None:
    source, sink = MemorySource(), RecordingSink(fail_first=1)
    source.publish(b"1")
    trigger = runner(source)
    await trigger.start(sink)
    await eventually(lambda: source.acked == ["m1"])
    await trigger.stop()
    assert sink.attempts["m1"] == 2 and sink.ids == ["m1"]


async def test_past_the_limit_the_message_is_dead_lettered_with_the_reason() -> None:
    source, sink = MemorySource(), RecordingSink(fail_always=True)
    source.publish(b"1")
    trigger = runner(source, max_redeliveries=2)
    await trigger.start(sink)
    await eventually(lambda: len(source.dead_letters) == 1)
    await trigger.stop()
    message, letter = source.dead_letters[0]
    assert sink.attempts["m1"] == 3 and message.deliveries == 3
    assert letter.reason == "sink failed 3 times, last: RuntimeError: sink refused m1"
    assert letter.headers()["flowapp-deliveries"] == "3"
    assert source.acked == ["m1"]  # acked only after the dead letter was published


async def test_a_failed_dead_letter_leaves_the_message_for_redelivery() -> None:
    source, sink = MemorySource(), RecordingSink(fail_always=True)
    source.fail_dead_letters = 1
    source.publish(b"1")
    trigger = runner(source, max_redeliveries=0)
    await trigger.start(sink)
    await eventually(lambda: len(source.dead_letters) == 1)
    await trigger.stop()
    assert source.dead_letters[0][0].deliveries == 2 and source.acked == ["m1"]


async def test_too_large_goes_straight_to_the_dead_letter() -> None:
    source, sink = MemorySource(), RecordingSink()
    source.publish(b"x" * 100)
    trigger = runner(source, max_bytes=10)
    await trigger.start(sink)
    await eventually(lambda: len(source.dead_letters) == 1)
    await trigger.stop()
    assert sink.attempts == {}
    assert source.dead_letters[0][1].reason == "too large: 100 bytes > maxBytes 10"


async def test_a_bad_envelope_is_dead_lettered() -> None:
    source, sink = MemorySource(), RecordingSink()
    source.publish(b'{"hello": 1}')
    trigger = runner(source, read="envelope")
    await trigger.start(sink)
    await eventually(lambda: len(source.dead_letters) == 1)
    await trigger.stop()
    assert "not a CloudEvent" in source.dead_letters[0][1].reason


async def test_max_in_flight_bounds_concurrency_and_reads() -> None:
    source, sink = MemorySource(), RecordingSink(delay=0.02)
    for i in range(30):
        source.publish(b"%d" % i)
    trigger = runner(source, max_in_flight=4)
    await trigger.start(sink)
    await eventually(lambda: len(source.acked) == 30)
    await trigger.stop()
    assert sink.max_active == 4
    assert source.max_received <= 4  # never read more than there were free slots


async def test_stop_drains_in_flight_messages() -> None:
    source, sink = MemorySource(), RecordingSink(delay=0.05)
    for i in range(3):
        source.publish(b"%d" % i)
    trigger = runner(source)
    await trigger.start(sink)
    await eventually(lambda: sink.active == 3)
    await trigger.stop(drain_timeout=5)
    assert len(source.acked) == 3


async def test_stop_without_drain_leaves_messages_unacked_for_the_next_instance() -> None:
    source, never = MemorySource(), asyncio.Event()
    for i in range(3):
        source.publish(b"%d" % i)

    async def stuck_sink(event: dict[str, object]) -> None:
        await never.wait()

    first = runner(source)
    await first.start(stuck_sink)
    await eventually(lambda: len(source.held) == 3)
    await first.stop(drain_timeout=0)
    assert source.acked == [] and len(source.queue) == 3

    sink = RecordingSink()
    second = runner(source)
    await second.start(sink)
    await eventually(lambda: len(source.acked) == 3)
    await second.stop()
    assert sorted(sink.ids) == ["m1", "m2", "m3"]


async def test_a_broker_down_at_start_is_reported_and_retried() -> None:
    source, sink = MemorySource(fail_opens=3), RecordingSink()
    source.publish(b"1")
    trigger = runner(source)
    await trigger.start(sink)  # must not raise
    await eventually(lambda: trigger.status().state is TriggerState.CONNECTING)
    await eventually(lambda: trigger.status().error is not None)
    assert "memory broker is down" in (trigger.status().error or "")
    await eventually(lambda: trigger.status().ready, timeout=5)
    await eventually(lambda: source.acked == ["m1"])
    await trigger.stop()
    assert source.opens == 4


async def test_stop_while_connecting_returns_promptly() -> None:
    source = MemorySource(fail_opens=1000)
    trigger = runner(source)
    await trigger.start(RecordingSink())
    await eventually(lambda: source.opens >= 2)
    await asyncio.wait_for(trigger.stop(), timeout=1)
    assert trigger.status().state is TriggerState.STOPPED


async def test_starting_twice_is_an_error() -> None:
    trigger = runner(MemorySource())
    await trigger.start(RecordingSink())
    with pytest.raises(Exception, match="already started"):
        await trigger.start(RecordingSink())
    await trigger.stop()


async def test_in_flight_slots() -> None:
    slots = InFlight(2)
    assert await slots.wait_free() == 2
    slots.take(2)
    waiter = asyncio.create_task(slots.wait_free())
    await asyncio.sleep(0)
    assert not waiter.done()
    slots.release()
    assert await waiter == 1
    assert not await slots.wait_idle(0.01)
    slots.release()
    assert await slots.wait_idle(0.01)
    with pytest.raises(RuntimeError):
        slots.release()
    with pytest.raises(ValueError):
        InFlight(0)


def test_backoff_delays() -> None:
    exponential = Backoff(delay=0.5, maximum=3)
    assert [exponential.delay_for(n) for n in (1, 2, 3, 4, 5000)] == [0.5, 1, 2, 3, 3]
    linear = Backoff(delay=0.5, policy="linear", maximum=3)
    assert [linear.delay_for(n) for n in (1, 2, 10)] == [0.5, 1, 3]
