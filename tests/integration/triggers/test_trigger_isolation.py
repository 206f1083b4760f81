"""Two apps, each with a trigger named ``orders`` and the broker-side names left to their
defaults, on the machine's real NATS, RabbitMQ and Redis servers: every message reaches
the app it was meant for, and a message both subscribe to reaches both.

Before the names were derived from the app, both triggers made up the same stream,
durable consumer, queue or consumer group (``FLOWAPP_ORDERS``, ``flowapp-orders``,
``flowapp.orders``): the apps shared one, and each message reached one of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import nats
import nats.js.errors
import pytest
import redis.asyncio as aioredis

from flowapp.triggers import Backoff, build_trigger, load_trigger
from flowapp.triggers.testing import RecordingSink, eventually

NATS_URL = "nats://127.0.0.1:4222"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
REDIS_URL = "redis://127.0.0.1:6379/0"
RECONNECT = Backoff(delay=0.05, maximum=0.5)


@pytest.fixture
def apps() -> tuple[str, str]:
    """Two app names of this test's own (the servers are shared with other tests)."""
    u = uuid.uuid4().hex[:8]
    return f"shop-{u}", f"billing-{u}"


@contextlib.asynccontextmanager
async def running(app: str, kind: str, body: dict[str, Any]) -> AsyncIterator[RecordingSink]:
    config = load_trigger({"name": "orders", kind: body, "backoffDelay": "PT0.05S"}, app=app)
    trigger = build_trigger(config, reconnect=RECONNECT)
    sink = RecordingSink()
    await trigger.start(sink)
    try:
        await eventually(lambda: trigger.status().ready, timeout=15)
        yield sink
    finally:
        await trigger.stop(drain_timeout=2)


def bodies(sink: RecordingSink) -> list[Any]:
    return sorted(event["data"]["n"] for event in sink.events)


async def settle(*sinks: RecordingSink, counts: tuple[int, ...]) -> None:
    await eventually(lambda: tuple(len(s.events) for s in sinks) == counts, timeout=20)
    await asyncio.sleep(0.5)  # room for a message delivered to the wrong app to show up


async def test_nats_each_app_reads_its_own_subject(apps: tuple[str, str]) -> None:
    shop, billing = apps
    client = await nats.connect(NATS_URL)
    js = client.jetstream()
    try:
        async with (
            running(shop, "nats", {"url": NATS_URL, "subject": f"{shop}.orders"}) as to_shop,
            running(billing, "nats", {"url": NATS_URL, "subject": f"{billing}.orders"}) as to_bill,
        ):
            for n in range(3):
                await js.publish(f"{shop}.orders", b'{"n": %d}' % n)
                await js.publish(f"{billing}.orders", b'{"n": %d}' % (n + 10))
            await settle(to_shop, to_bill, counts=(3, 3))
            assert bodies(to_shop) == [0, 1, 2] and bodies(to_bill) == [10, 11, 12]
        names = {info.config.name for info in await js.streams_info()}
        assert {f"FLOWAPP_{shop.upper()}_ORDERS", f"FLOWAPP_{billing.upper()}_ORDERS"} <= names
    finally:
        await _delete_streams(js, shop, billing)
        await client.close()


async def test_nats_two_apps_on_one_subject_each_get_every_message(
    apps: tuple[str, str],
) -> None:
    shop, billing = apps
    subject = f"{shop}.shared"
    client = await nats.connect(NATS_URL)
    js = client.jetstream()
    try:
        async with (
            running(shop, "nats", {"url": NATS_URL, "subject": subject}) as to_shop,
            running(billing, "nats", {"url": NATS_URL, "subject": subject}) as to_bill,
        ):
            for n in range(3):
                await js.publish(subject, b'{"n": %d}' % n)
            await settle(to_shop, to_bill, counts=(3, 3))
            assert bodies(to_shop) == bodies(to_bill) == [0, 1, 2]
    finally:
        await _delete_streams(js, shop, billing)
        await client.close()


async def _delete_streams(js: Any, *apps: str) -> None:
    for app in apps:
        for stream in (
            f"FLOWAPP_{app.upper()}_ORDERS",
            f"FLOWAPP_{app.upper()}_ORDERS_DEAD_LETTER",
        ):
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await js.delete_stream(stream)


async def test_rabbitmq_each_app_gets_its_own_queue(apps: tuple[str, str]) -> None:
    shop, billing = apps
    exchange = f"flowapp.test.{shop}"
    connection = await aio_pika.connect(AMQP_URL)
    channel = await connection.channel(publisher_confirms=True)
    common = {"url": AMQP_URL, "exchange": exchange}  # declared by the triggers
    try:
        async with (
            running(shop, "rabbitmq", {**common, "routingKey": "shop.*"}) as to_shop,
            running(billing, "rabbitmq", {**common, "routingKey": "billing.*"}) as to_bill,
        ):
            target = await channel.get_exchange(exchange)
            for n in range(3):
                await target.publish(aio_pika.Message(b'{"n": %d}' % n), "shop.created")
                await target.publish(aio_pika.Message(b'{"n": %d}' % (n + 10)), "billing.due")
            await settle(to_shop, to_bill, counts=(3, 3))
            assert bodies(to_shop) == [0, 1, 2] and bodies(to_bill) == [10, 11, 12]
        for app in apps:  # the queues are the apps' own
            await channel.get_queue(f"flowapp.{app}.orders", ensure=True)
    finally:
        for app in apps:
            for queue in (f"flowapp.{app}.orders", f"flowapp.dead-letter.{app}.orders"):
                with contextlib.suppress(Exception):
                    await channel.queue_delete(queue)
        with contextlib.suppress(Exception):
            await channel.exchange_delete(exchange)
        await connection.close()


async def test_redis_each_app_reads_a_shared_stream_in_its_own_group(
    apps: tuple[str, str],
) -> None:
    shop, billing = apps
    stream = f"flowapp:test:{shop}"
    client = aioredis.from_url(REDIS_URL)
    body = {"url": REDIS_URL, "stream": stream}
    try:
        async with (
            running(shop, "redis", body) as to_shop,
            running(billing, "redis", body) as to_bill,
        ):
            for n in range(3):
                await client.xadd(stream, {"data": b'{"n": %d}' % n})
            await settle(to_shop, to_bill, counts=(3, 3))
            assert bodies(to_shop) == bodies(to_bill) == [0, 1, 2]
        groups = {g["name"].decode() for g in await client.xinfo_groups(stream)}
        assert groups == {f"flowapp-{shop}:orders", f"flowapp-{billing}:orders"}
    finally:
        await client.delete(stream, *(f"flowapp:dead-letter:{app}:orders" for app in apps))
        await client.aclose()
