"""The same broker-level test bodies against every backend: memory, SQLite, NATS JetStream.

Subscribers are real HTTP servers on 127.0.0.1 (see ``conftest.py``), except where a test
needs to hold an attempt open (an in-process subscriber that never returns).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from flowapp.events.broker import Broker
from flowapp.events.cloudevents import new_event
from flowapp.events.delivery import parse_delivery
from flowapp.events.filters import parse_filters
from flowapp.events.subscription import Subscription

from .events_harness import Backend, Subscribers

Event = dict[str, Any]
Eventually = Callable[..., Any]


@pytest.fixture
async def broker(backend: Backend) -> AsyncIterator[Broker]:
    subject = backend.open()
    await subject.start()
    yield subject


def order(id: str, type: str = "com.example.order.created", source: str = "/orders/eu") -> Event:
    return new_event(type=type, source=source, id=id, data={"order": id})


async def test_publish_then_filtered_delivery(
    broker: Broker, subscribers: Subscribers, eventually: Eventually
) -> None:
    created = parse_filters([{"exact": {"type": "com.example.order.created"}}])
    europe = parse_filters([{"prefix": {"source": "/orders/eu"}}])
    await broker.subscribe(Subscription("created", subscribers.url("ok/created"), created))
    await broker.subscribe(Subscription("europe", subscribers.url("ok/europe"), europe))
    await broker.publish(order("1"))
    await broker.publish(order("2", type="com.example.order.cancelled"))
    await broker.publish(order("3", source="/orders/us"))
    await eventually(lambda: len(subscribers.received["ok/europe"]) == 2)
    await eventually(lambda: len(subscribers.received["ok/created"]) == 2)
    await asyncio.sleep(0.2)
    assert sorted(subscribers.ids("ok/created")) == ["1", "3"]
    assert sorted(subscribers.ids("ok/europe")) == ["1", "2"]
    # A subscription takes several deliveries at once: they may arrive in either order.
    by_id = {event["id"]: event for event in subscribers.received["ok/europe"]}
    assert by_id["1"]["data"] == {"order": "1"}


async def test_retry_then_success(
    broker: Broker, subscribers: Subscribers, eventually: Eventually
) -> None:
    delivery = parse_delivery({"retry": 3, "backoffPolicy": "linear", "backoffDelay": "PT0.05S"})
    await broker.subscribe(Subscription("flaky", subscribers.url("flaky/f"), delivery=delivery))
    await broker.publish(order("1"))
    await eventually(lambda: len(subscribers.received["flaky/f"]) == 3)
    first, second, third = subscribers.arrivals["flaky/f"]
    assert second - first >= 0.05 and third - second >= 0.1  # linear: delay * n
    await asyncio.sleep(0.3)
    assert len(subscribers.received["flaky/f"]) == 3
    assert await broker.dead_letters() == []


async def test_retry_then_dead_letter_sink(
    broker: Broker, subscribers: Subscribers, eventually: Eventually
) -> None:
    spec = {"retry": 2, "backoffDelay": "PT0.02S", "deadLetterSink": subscribers.url("ok/dls")}
    failing = subscribers.url("fail/x")
    await broker.subscribe(Subscription("x", failing, delivery=parse_delivery(spec)))
    await broker.publish(order("1"))
    await eventually(lambda: len(subscribers.received["ok/dls"]) == 1)
    assert len(subscribers.received["fail/x"]) == 3  # the first try and two retries
    (letter,) = subscribers.received["ok/dls"]
    assert letter["id"] == "1" and letter["data"] == {"order": "1"}
    assert letter["knativeerrordest"] == failing
    assert letter["knativeerrorcode"] == "500"
    assert base64.b64decode(letter["knativeerrordata"]) == b"boom"
    assert await broker.dead_letters() == []


async def test_retry_then_dead_without_a_sink(broker: Broker, subscribers: Subscribers) -> None:
    delivery = parse_delivery({"retry": 1})
    await broker.subscribe(Subscription("y", subscribers.url("fail/y"), delivery=delivery))
    await broker.publish(order("1"))
    async with asyncio.timeout(10):
        while not (letters := await broker.dead_letters("y")):
            await asyncio.sleep(0.02)
    (letter,) = letters
    assert (letter.subscription, letter.event["id"], letter.attempts) == ("y", "1", 2)
    assert "answered 500" in letter.error
    assert await broker.dead_letters("nobody") == []


async def test_duplicates_are_suppressed(
    broker: Broker, subscribers: Subscribers, eventually: Eventually
) -> None:
    await broker.subscribe(Subscription("d", subscribers.url("ok/d")))
    await broker.publish(order("1"))
    await broker.publish({**order("1"), "data": {"changed": True}})
    await broker.publish(order("2"))
    await eventually(lambda: len(subscribers.received["ok/d"]) == 2)
    await asyncio.sleep(0.2)
    assert sorted(subscribers.ids("ok/d")) == ["1", "2"]
    assert {e["id"]: e["data"] for e in subscribers.received["ok/d"]}["1"] == {"order": "1"}


async def test_a_reply_event_is_published_back(
    broker: Broker, subscribers: Subscribers, eventually: Eventually
) -> None:
    created = parse_filters([{"exact": {"type": "com.example.order.created"}}])
    replies = parse_filters([{"exact": {"type": "com.example.reply"}}])
    await broker.subscribe(Subscription("fn", subscribers.url("reply/fn"), created))
    await broker.subscribe(Subscription("next", subscribers.url("ok/next"), replies))
    await broker.publish(order("1"))
    await eventually(lambda: len(subscribers.received["ok/next"]) == 1)
    (reply,) = subscribers.received["ok/next"]
    assert (reply["id"], reply["source"], reply["data"]) == ("reply-1", "/reply", {"ok": 1})


async def test_restart_redelivers_what_was_not_delivered(
    backend: Backend, subscribers: Subscribers, eventually: Eventually
) -> None:
    started = asyncio.Event()

    async def hangs(event: Event) -> None:
        started.set()
        await asyncio.Event().wait()  # the process "dies" mid-attempt

    delivery = parse_delivery({"retry": 2})
    first = backend.open()
    await first.subscribe(Subscription("restart", hangs, delivery=delivery))
    await first.start()
    await first.publish(order("1"))
    await asyncio.wait_for(started.wait(), 10)
    await first.stop()

    second = backend.open()
    url = subscribers.url("ok/restart")
    await second.subscribe(Subscription("restart", url, delivery=delivery))
    await second.start()
    await eventually(lambda: subscribers.ids("ok/restart") == ["1"])
    await second.stop()
