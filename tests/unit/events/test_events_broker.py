"""Broker logic on the in-memory store: filtering, retries, dead letters, replies, isolation."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from flowapp.events.broker import StoreBroker
from flowapp.events.cloudevents import new_event
from flowapp.events.delivery import BackoffPolicy, DeliverySpec
from flowapp.events.errors import BrokerError, InvalidEvent
from flowapp.events.filters import Exact, Prefix
from flowapp.events.memory import MemoryStore
from flowapp.events.subscription import Subscription

Event = dict[str, Any]
Eventually = Callable[[Callable[[], bool]], Awaitable[None]]  # the conftest fixture


def recorder() -> tuple[list[Event], Callable[[Event], Any]]:
    received: list[Event] = []

    async def deliver(event: Event) -> None:
        received.append(event)

    return received, deliver


def event(id: str, type: str = "com.example.order.created", **extra: Any) -> Event:
    return new_event(type=type, source="/orders", id=id, **extra)


def fast_retries(retry: int, **options: Any) -> DeliverySpec:
    return DeliverySpec(retry=retry, backoff_policy=BackoffPolicy.LINEAR, **options)


async def test_filtered_delivery(broker: StoreBroker, eventually: Eventually) -> None:
    created, on_created = recorder()
    everything, on_any = recorder()
    await broker.subscribe(Subscription("created", on_created, Exact("type", "com.x.created")))
    await broker.subscribe(Subscription("all", on_any))
    for id, type in [("1", "com.x.created"), ("2", "com.x.deleted"), ("3", "com.x.created")]:
        await broker.publish(event(id, type))
    await eventually(lambda: len(everything) == 3 and len(created) == 2)
    assert sorted(e["id"] for e in created) == ["1", "3"]


async def test_duplicates_are_dropped(broker: StoreBroker, eventually: Eventually) -> None:
    received, deliver = recorder()
    await broker.subscribe(Subscription("s", deliver))
    await broker.publish(event("1", data={"first": True}))
    await broker.publish(event("1", data={"first": False}))
    await broker.publish(new_event(type="t", source="/other", id="1"))  # other source: new
    await eventually(lambda: len(received) == 2)
    await asyncio.sleep(0.05)
    assert [(e["source"], e.get("data")) for e in received] in (
        [("/orders", {"first": True}), ("/other", None)],
        [("/other", None), ("/orders", {"first": True})],
    )


async def test_retry_then_success_waits_the_backoff(
    broker: StoreBroker, eventually: Eventually
) -> None:
    calls: list[float] = []

    async def flaky(event: Event) -> None:
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise ConnectionError("not yet")

    spec = fast_retries(3, backoff_delay=0.05)
    await broker.subscribe(Subscription("flaky", flaky, delivery=spec))
    await broker.publish(event("1"))
    await eventually(lambda: len(calls) == 3)
    assert calls[1] - calls[0] >= 0.05  # linear: delay * 1
    assert calls[2] - calls[1] >= 0.10  # then delay * 2
    await asyncio.sleep(0.05)
    assert len(calls) == 3 and await broker.dead_letters() == []


async def test_retry_then_dead_letter_sink(broker: StoreBroker, eventually: Eventually) -> None:
    letters, sink = recorder()
    attempts = 0

    async def broken(event: Event) -> None:
        nonlocal attempts
        attempts += 1
        raise RuntimeError("always")

    spec = fast_retries(2, backoff_delay=0.01, dead_letter_sink=sink)
    await broker.subscribe(Subscription("broken", broken, delivery=spec))
    await broker.publish(event("1", data={"n": 1}))
    await eventually(lambda: len(letters) == 1)
    assert attempts == 3  # the first try and two retries
    (letter,) = letters
    assert letter["id"] == "1" and letter["data"] == {"n": 1}
    assert letter["knativeerrordest"] == "inprocess://broken"
    assert letter["knativeerrorcode"] == "500"
    assert base64.b64decode(letter["knativeerrordata"]) == b"dispatch error: RuntimeError: always"
    assert await broker.dead_letters() == []


async def test_without_a_sink_the_event_is_recorded_dead(
    broker: StoreBroker, eventually: Eventually
) -> None:
    async def broken(event: Event) -> None:
        raise RuntimeError("always")

    await broker.subscribe(Subscription("broken", broken, delivery=fast_retries(1)))
    await broker.publish(event("1"))

    async def dead() -> list[Any]:
        return await broker.dead_letters("broken")

    async with asyncio.timeout(5):
        while not await dead():
            await asyncio.sleep(0.01)
    (letter,) = await dead()
    assert (letter.subscription, letter.event["id"], letter.attempts) == ("broken", "1", 2)
    assert letter.error == "RuntimeError: always"


async def test_non_retryable_answers_go_straight_to_the_sink(eventually: Eventually) -> None:
    requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(400, text="bad order")

    letters, sink = recorder()
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        broker = StoreBroker(MemoryStore(), http_client=client)
        await broker.start()
        spec = fast_retries(5, dead_letter_sink=sink)
        await broker.subscribe(Subscription("http", "http://fn.test/", delivery=spec))
        await broker.publish(event("1"))
        await eventually(lambda: len(letters) == 1)
        await broker.stop()
    assert len(requests) == 1  # 400 is not retried (Knative's SelectiveRetry)
    assert letters[0]["knativeerrorcode"] == "400"
    assert letters[0]["knativeerrordest"] == "http://fn.test/"
    assert base64.b64decode(letters[0]["knativeerrordata"]) == b"bad order"


async def test_replies_are_published_back(broker: StoreBroker, eventually: Eventually) -> None:
    async def function(event: Event) -> Event:
        return new_event(type="com.example.order.priced", source="/fn", id=f"r-{event['id']}")

    priced, on_priced = recorder()
    await broker.subscribe(Subscription("fn", function, Exact("type", "com.example.order.created")))
    await broker.subscribe(Subscription("priced", on_priced, Prefix("type", "com.example.order.p")))
    await broker.publish(event("1"))
    await eventually(lambda: len(priced) == 1)
    assert priced[0]["id"] == "r-1" and priced[0]["source"] == "/fn"


async def test_an_invalid_reply_is_dropped(broker: StoreBroker, eventually: Eventually) -> None:
    calls = 0

    async def function(event: Event) -> Event:
        nonlocal calls
        calls += 1
        return {"type": "missing id and source"}

    await broker.subscribe(Subscription("fn", function, delivery=fast_retries(3)))
    await broker.publish(event("1"))
    await eventually(lambda: calls == 1)
    await asyncio.sleep(0.05)
    assert calls == 1 and await broker.dead_letters() == []


async def test_a_slow_subscriber_does_not_block_others(
    broker: StoreBroker, eventually: Eventually
) -> None:
    release = asyncio.Event()

    async def slow(event: Event) -> None:
        await release.wait()

    fast, on_fast = recorder()
    await broker.subscribe(Subscription("slow", slow, concurrency=2))
    await broker.subscribe(Subscription("fast", on_fast))
    for n in range(10):
        await broker.publish(event(str(n)))
    await eventually(lambda: len(fast) == 10)
    release.set()


async def test_concurrency_is_bounded_per_subscription(
    broker: StoreBroker, eventually: Eventually
) -> None:
    running = peak = done = 0

    async def deliver(event: Event) -> None:
        nonlocal running, peak, done
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        done += 1

    await broker.subscribe(Subscription("bounded", deliver, concurrency=3))
    for n in range(20):
        await broker.publish(event(str(n)))
    await eventually(lambda: done == 20)
    assert peak == 3


async def test_unsubscribe_stops_delivery_and_forgets(
    broker: StoreBroker, eventually: Eventually
) -> None:
    release = asyncio.Event()
    started = 0

    async def stuck(event: Event) -> None:
        nonlocal started
        started += 1
        await release.wait()

    await broker.subscribe(Subscription("gone", stuck, concurrency=1))
    await broker.publish(event("1"))
    await broker.publish(event("2"))
    await eventually(lambda: started == 1)
    await broker.unsubscribe("gone")
    release.set()
    await broker.publish(event("3"))
    await asyncio.sleep(0.05)
    assert started == 1
    due = await broker.store.due("gone", now=time.time() + 60, limit=10)
    assert due.deliveries == []


async def test_a_new_subscription_sees_only_later_events(
    broker: StoreBroker, eventually: Eventually
) -> None:
    received, deliver = recorder()
    await broker.publish(event("before"))
    await broker.subscribe(Subscription("late", deliver))
    await broker.publish(event("after"))
    await eventually(lambda: len(received) == 1)
    assert received[0]["id"] == "after"


async def test_subscribing_again_replaces_the_subscription(
    broker: StoreBroker, eventually: Eventually
) -> None:
    old, on_old = recorder()
    new, on_new = recorder()
    await broker.subscribe(Subscription("s", on_old))
    await broker.publish(event("1"))
    await eventually(lambda: len(old) == 1)
    await broker.subscribe(Subscription("s", on_new))
    await broker.publish(event("2"))
    await eventually(lambda: len(new) == 1)
    assert [e["id"] for e in old + new] == ["1", "2"]


async def test_restart_redelivers_what_was_in_flight(eventually: Eventually) -> None:
    store = MemoryStore()  # outlives the broker, as a database file would
    started = asyncio.Event()

    async def hangs(event: Event) -> None:
        started.set()
        await asyncio.Event().wait()

    first = StoreBroker(store)
    await first.subscribe(Subscription("s", hangs))
    await first.start()
    await first.publish(event("1"))
    await asyncio.wait_for(started.wait(), 5)
    await first.stop()

    received, deliver = recorder()
    second = StoreBroker(store)
    await second.subscribe(Subscription("s", deliver))
    await second.start()
    await eventually(lambda: len(received) == 1)
    await second.stop()


async def test_misuse() -> None:
    broker = StoreBroker(MemoryStore())
    with pytest.raises(BrokerError, match="not started"):
        await broker.publish(event("1"))
    await broker.start()
    with pytest.raises(InvalidEvent, match="`source`"):
        await broker.publish({"specversion": "1.0", "id": "1", "type": "t"})
    await broker.stop()
