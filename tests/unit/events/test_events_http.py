"""CloudEvents read from HTTP requests (``read_events``) and the problems answered for
what cannot be read, driven through httpx's ASGI transport: no sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from flowapp.events.http_events import read_events

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


class Received:
    """What a receiver read: the events of each request it accepted."""

    def __init__(self) -> None:
        self.published: list[Event] = []


@pytest.fixture
def default() -> Received:
    return Received()


@pytest.fixture
async def client(default: Received) -> AsyncIterator[httpx.AsyncClient]:
    """A receiver that reads up to 1000 bytes of events and accepts them (202), or
    answers with the problem ``read_events`` gives."""

    async def receive(request: Request) -> Response:
        events = await read_events(request, 1000)
        if isinstance(events, Response):
            return events
        default.published.extend(events)
        return Response(status_code=202)

    app = Starlette(routes=[Route("/", receive, methods=["POST"])])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as client:
        yield client


async def test_binary_mode_is_accepted(client: httpx.AsyncClient, default: Received) -> None:
    response = await client.post("/", headers=BINARY, content=b'{"n": 1}')
    assert response.status_code == 202
    assert default.published == [{**EVENT, "datacontenttype": "application/json", "data": {"n": 1}}]


async def test_structured_mode(client: httpx.AsyncClient, default: Received) -> None:
    response = await client.post("/", headers=STRUCTURED, content=orjson.dumps(EVENT))
    assert response.status_code == 202
    assert default.published == [EVENT]


async def test_batched_mode(client: httpx.AsyncClient, default: Received) -> None:
    batch = [{**EVENT, "id": "1"}, {**EVENT, "id": "2"}]
    headers = {"content-type": "application/cloudevents-batch+json"}
    response = await client.post("/", headers=headers, content=orjson.dumps(batch))
    assert response.status_code == 202
    assert [e["id"] for e in default.published] == ["1", "2"]


@pytest.mark.parametrize("missing", ["id", "source", "type", "specversion"])
async def test_missing_attribute_is_a_400_problem(
    client: httpx.AsyncClient, default: Received, missing: str
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
    client: httpx.AsyncClient, default: Received
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
