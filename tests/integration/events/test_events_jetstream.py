"""What only the JetStream backend has: its stream and consumer layout, and shared work."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, DeliverPolicy, RetentionPolicy

from flowapp.events.cloudevents import new_event
from flowapp.events.delivery import parse_delivery
from flowapp.events.filters import parse_filters
from flowapp.events.jetstream import JetStreamBroker, durable_name
from flowapp.events.subscription import Subscription

from .events_harness import NATS_HOST, NATS_PORT, Backend, require_nats

Event = dict[str, Any]


@pytest.fixture
async def backend(tmp_path: Path) -> AsyncIterator[Backend]:
    require_nats()
    subject = Backend("nats", tmp_path)
    yield subject
    await subject.close()


@pytest.fixture
async def js() -> AsyncIterator[JetStreamContext]:
    connection = await nats.connect(f"nats://{NATS_HOST}:{NATS_PORT}")
    yield connection.jetstream()
    await connection.close()


def opened(backend: Backend) -> JetStreamBroker:
    broker = backend.open()
    assert isinstance(broker, JetStreamBroker)
    return broker


async def ignore(event: Event) -> None:
    return None


async def test_layout_follows_the_delivery_spec(backend: Backend, js: JetStreamContext) -> None:
    broker = opened(backend)
    await broker.start()
    stream = await js.stream_info(backend.stream)
    assert stream.config.retention == RetentionPolicy.INTEREST  # nats-py gives str
    assert stream.config.subjects == [f"flowapp.{backend.stream}.events"]
    delivery = parse_delivery({"retry": 4, "timeout": "PT3S"})
    await broker.subscribe(Subscription("orders.eu", ignore, delivery=delivery, concurrency=5))
    info = await js.consumer_info(backend.stream, durable_name("orders.eu"))
    config = info.config
    assert (config.ack_policy, config.deliver_policy) == (AckPolicy.EXPLICIT, DeliverPolicy.NEW)
    assert (config.max_deliver, config.ack_wait, config.max_ack_pending) == (7, 11.0, 5)

    await broker.subscribe(Subscription("orders.eu", ignore, delivery=parse_delivery({"retry": 1})))
    info = await js.consumer_info(backend.stream, durable_name("orders.eu"))
    assert (info.config.max_deliver, info.config.ack_wait) == (4, 65.0)  # updated in place

    await broker.unsubscribe("orders.eu")
    with pytest.raises(nats.js.errors.NotFoundError):
        await js.consumer_info(backend.stream, durable_name("orders.eu"))


async def test_events_leave_the_stream_once_every_subscription_is_done(
    backend: Backend, js: JetStreamContext, eventually: Callable[..., Any]
) -> None:
    broker = opened(backend)
    await broker.start()
    await broker.publish(new_event(type="t", source="/s", id="nobody-listens"))
    assert (await js.stream_info(backend.stream)).state.messages == 0  # dropped, as Knative does

    received: list[Event] = []

    async def record(event: Event) -> None:
        received.append(event)

    only_a = parse_filters([{"exact": {"type": "a"}}])
    await broker.subscribe(Subscription("a", record, only_a))
    await broker.subscribe(Subscription("all", ignore))
    await broker.publish(new_event(type="a", source="/s", id="1"))
    await broker.publish(new_event(type="b", source="/s", id="2"))  # filtered out by "a"
    await eventually(lambda: len(received) == 1)

    async def empty() -> bool:
        return (await js.stream_info(backend.stream)).state.messages == 0

    async with asyncio.timeout(10):
        while not await empty():
            await asyncio.sleep(0.05)


async def test_two_processes_share_one_subscription(
    backend: Backend, eventually: Callable[..., Any]
) -> None:
    seen: list[tuple[str, str]] = []

    def worker(process: str) -> Callable[[Event], Any]:
        async def deliver(event: Event) -> None:
            seen.append((process, event["id"]))
            await asyncio.sleep(0.01)

        return deliver

    first, second = opened(backend), opened(backend)
    for process, broker in (("first", first), ("second", second)):
        await broker.subscribe(Subscription("shared", worker(process), concurrency=2))
        await broker.start()
    for n in range(30):
        await (first if n % 2 else second).publish(new_event(type="t", source="/s", id=str(n)))
    await eventually(lambda: len(seen) >= 30)
    await asyncio.sleep(0.2)
    assert sorted(int(id) for _, id in seen) == list(range(30))  # each event exactly once
