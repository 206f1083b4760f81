"""The broker ingress (ASGI), driven through httpx's ASGI transport: no sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import orjson
import pytest

from flowapp.events.broker import StoreBroker
from flowapp.events.errors import StoreError
from flowapp.events.ingress import create_ingress
from flowapp.events.store import DeadLetter
from flowapp.events.subscription import Subscription

Event = dict[str, Any]
BINARY = {
    "ce-specversion": "1.0",
    "ce-id": "1",
    "ce-source": "/s",
    "ce-type": "com.example.t",
    "content-type": "application/json",
}
STRUCTURED = {"content-type": "application/cloudevents+json"}
EVENT = {"specversion": "1.0", "id": "1", "source": "/s", "type": "com.example.t"}


class RecordingBroker:
    """A Broker that only records what is published (or fails as told)."""

    def __init__(self, fail: bool = False) -> None:
        self.published: list[Event] = []
        self.fail = fail

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, event: Event) -> None:
        if self.fail:
            raise StoreError("disk full")
        self.published.append(event)

    async def subscribe(self, subscription: Subscription) -> None: ...

    async def unsubscribe(self, name: str) -> None: ...

    async def dead_letters(self, subscription: str | None = None) -> list[DeadLetter]:
        return []


@pytest.fixture
def default() -> RecordingBroker:
    return RecordingBroker()


@pytest.fixture
def named() -> RecordingBroker:
    return RecordingBroker()


@pytest.fixture
async def client(
    default: RecordingBroker, named: RecordingBroker
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_ingress(default, brokers={("team", "orders"): named}, max_body_bytes=1000)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ingress") as client:
        yield client


async def test_binary_mode_is_accepted(client: httpx.AsyncClient, default: RecordingBroker) -> None:
    response = await client.post("/", headers=BINARY, content=b'{"n": 1}')
    assert response.status_code == 202
    assert default.published == [{**EVENT, "datacontenttype": "application/json", "data": {"n": 1}}]


async def test_structured_mode_on_the_knative_path(
    client: httpx.AsyncClient, default: RecordingBroker, named: RecordingBroker
) -> None:
    response = await client.post("/team/orders", headers=STRUCTURED, content=orjson.dumps(EVENT))
    assert response.status_code == 202
    assert named.published == [EVENT] and default.published == []


async def test_batched_mode(client: httpx.AsyncClient, default: RecordingBroker) -> None:
    batch = [{**EVENT, "id": "1"}, {**EVENT, "id": "2"}]
    headers = {"content-type": "application/cloudevents-batch+json"}
    response = await client.post("/", headers=headers, content=orjson.dumps(batch))
    assert response.status_code == 202
    assert [e["id"] for e in default.published] == ["1", "2"]


@pytest.mark.parametrize("missing", ["id", "source", "type", "specversion"])
async def test_missing_attribute_is_a_400_problem(
    client: httpx.AsyncClient, default: RecordingBroker, missing: str
) -> None:
    headers = {k: v for k, v in BINARY.items() if k != f"ce-{missing}"}
    response = await client.post("/", headers=headers, content=b"{}")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 400 and problem["title"] == "Invalid CloudEvent"
    assert problem["type"].endswith("/errors/validation")
    assert problem["instance"] == f"/{missing}"
    assert f"`{missing}`" in problem["detail"]
    assert default.published == []


@pytest.mark.parametrize(
    ("headers", "body", "status", "instance"),
    [
        ({"content-type": "application/json"}, b"{}", 400, "/"),
        (STRUCTURED, b"{not json", 400, "/"),
        (STRUCTURED, orjson.dumps({**EVENT, "time": "noon"}), 400, "/time"),
        ({"content-type": "application/cloudevents+xml"}, b"<e/>", 415, "/"),
    ],
)
async def test_unreadable_events(
    client: httpx.AsyncClient, headers: dict[str, str], body: bytes, status: int, instance: str
) -> None:
    response = await client.post("/", headers=headers, content=body)
    assert response.status_code == status
    assert response.json()["instance"] == instance


async def test_a_bad_event_in_a_batch_rejects_the_batch(
    client: httpx.AsyncClient, default: RecordingBroker
) -> None:
    batch = [EVENT, {**EVENT, "id": ""}]
    headers = {"content-type": "application/cloudevents-batch+json"}
    response = await client.post("/", headers=headers, content=orjson.dumps(batch))
    assert response.status_code == 400 and response.json()["instance"] == "/1/id"
    assert default.published == []


async def test_too_large_by_content_length(client: httpx.AsyncClient) -> None:
    response = await client.post("/", headers=BINARY, content=b"x" * 1001)
    assert response.status_code == 413
    assert response.json()["title"] == "Payload Too Large"


async def test_too_large_while_streaming(client: httpx.AsyncClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"x" * 600
        yield b"x" * 600

    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks():
            yield chunk

    response = await client.post("/", headers=BINARY, content=body())  # chunked: no length
    assert response.status_code == 413


async def test_unknown_broker_is_a_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/team/unknown", headers=BINARY, content=b"{}")
    assert response.status_code == 404 and response.json()["instance"] == "/team/unknown"


async def test_storage_failure_is_a_503() -> None:
    app = create_ingress(RecordingBroker(fail=True))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://i") as c:
        response = await c.post("/", headers=BINARY, content=b"{}")
    assert response.status_code == 503
    assert response.json()["type"].endswith("/errors/communication")


async def test_accepted_means_stored(broker: StoreBroker) -> None:
    app = create_ingress(broker)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://i") as c:
        response = await c.post("/", headers=BINARY, content=b"{}")
        again = await c.post("/", headers=BINARY, content=b"{}")
    assert response.status_code == again.status_code == 202  # a duplicate is accepted, dropped
    assert not await broker.store.append(EVENT, [], now=0)  # already stored
