"""``BrokerPublisher`` against a Broker ingress on 127.0.0.1 that answers as told."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from flowapp.events.delivery import DeliverySpec
from flowapp.events.publisher import BrokerPublisher, PublishFailed
from tests.integration.triggers.servers import free_port

EVENT = {
    "specversion": "1.0",
    "id": "e-1",
    "source": "https://shop.example/orders",
    "type": "com.example.order.placed",
    "data": {"order": 7},
}
QUICK = DeliverySpec(retry=3, backoff_delay=0.01, timeout=2.0)


class Ingress:
    def __init__(self, answers: list[int]) -> None:
        self.answers = answers
        self.requests: list[tuple[dict[str, str], bytes]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((dict(request.headers), await request.read()))
        status = self.answers.pop(0) if self.answers else 202
        return web.Response(status=status)


Serve = Callable[[Ingress], Awaitable[str]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    runners: list[web.AppRunner] = []

    async def start(ingress: Ingress) -> str:
        app = web.Application()
        app.router.add_post("/shop/default", ingress.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
        return f"http://127.0.0.1:{port}/shop/default"

    yield start
    for runner in runners:
        await runner.cleanup()


async def test_an_event_is_posted_in_binary_mode(serve: Serve) -> None:
    ingress = Ingress([202])
    publisher = BrokerPublisher(await serve(ingress), delivery=QUICK)
    await publisher.publish(EVENT)
    await publisher.aclose()
    [(headers, body)] = ingress.requests
    lowered = {k.lower(): v for k, v in headers.items()}
    assert lowered["ce-id"] == "e-1"
    assert lowered["ce-type"] == "com.example.order.placed"
    assert lowered["ce-source"] == "https://shop.example/orders"
    assert lowered["content-type"] == "application/json"
    assert body == b'{"order":7}'


async def test_a_broker_that_is_busy_gets_the_event_again(serve: Serve) -> None:
    ingress = Ingress([503, 429, 202])
    publisher = BrokerPublisher(await serve(ingress), delivery=QUICK)
    await publisher.publish(EVENT)
    await publisher.aclose()
    assert len(ingress.requests) == 3


async def test_a_refused_event_is_not_retried(serve: Serve) -> None:
    ingress = Ingress([400])
    publisher = BrokerPublisher(await serve(ingress), delivery=QUICK)
    with pytest.raises(PublishFailed, match="after 1 attempt"):
        await publisher.publish(EVENT)
    await publisher.aclose()
    assert len(ingress.requests) == 1


async def test_an_unreachable_broker_fails_after_the_retries() -> None:
    publisher = BrokerPublisher(f"http://127.0.0.1:{free_port()}/shop/default", delivery=QUICK)
    with pytest.raises(PublishFailed, match="after 4 attempt"):
        await publisher.publish(EVENT)
    await publisher.aclose()
