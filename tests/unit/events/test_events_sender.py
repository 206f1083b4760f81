"""One attempt to a subscriber: HTTP semantics (through httpx's MockTransport) and callables."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from flowapp.events.cloudevents import from_http
from flowapp.events.delivery import DeliverySpec
from flowapp.events.sender import ERROR_DATA_MAX, Outcome, Sender, error_extensions, failure
from flowapp.events.subscription import Subscription

EVENT: dict[str, Any] = {
    "specversion": "1.0",
    "id": "1",
    "source": "/s",
    "type": "t",
    "data": {"n": 1},
}
URL = "http://subscriber.test/"


Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
async def sender_for() -> AsyncIterator[Callable[[Handler], Sender]]:
    """Senders over httpx's MockTransport (no network); closed after the test."""
    clients: list[httpx.AsyncClient] = []

    def make(handler: Handler) -> Sender:
        clients.append(httpx.AsyncClient(transport=httpx.MockTransport(handler)))
        return Sender(clients[-1])

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def sender() -> AsyncIterator[Sender]:
    subject = Sender()
    yield subject
    await subject.aclose()


async def test_posts_binary_mode_and_asks_for_a_reply(
    sender_for: Callable[[Handler], Sender],
) -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(202)

    outcome = await sender_for(handler).deliver(URL, EVENT, timeout=1)
    assert outcome == Outcome(ok=True, status=202)
    (request,) = requests
    assert request.headers["ce-id"] == "1" and request.headers["prefer"] == "reply"
    assert from_http(request.headers, request.content) == [
        {**EVENT, "datacontenttype": "application/json"}
    ]


async def test_a_cloudevent_answer_is_a_reply(sender_for: Callable[[Handler], Sender]) -> None:
    reply = {"ce-specversion": "1.0", "ce-id": "r", "ce-source": "/fn", "ce-type": "done"}
    outcome = await sender_for(lambda _: httpx.Response(200, headers=reply)).deliver(
        URL, EVENT, timeout=1
    )
    assert outcome.ok and outcome.reply == {
        "specversion": "1.0",
        "id": "r",
        "source": "/fn",
        "type": "done",
    }


@pytest.mark.parametrize(
    ("response", "reply"),
    [
        (httpx.Response(200, json={"plain": "json"}), None),  # not an event: ignored
        (httpx.Response(200, headers={"ce-specversion": "1.0"}), None),  # invalid: ignored
    ],
)
async def test_other_answers_are_no_reply(
    response: httpx.Response, reply: None, sender_for: Callable[[Handler], Sender]
) -> None:
    outcome = await sender_for(lambda _: response).deliver(URL, EVENT, timeout=1)
    assert outcome.ok and outcome.reply is reply


@pytest.mark.parametrize(
    ("status", "retryable"), [(500, True), (503, True), (429, True), (404, True), (400, False)]
)
async def test_error_answers(
    status: int, retryable: bool, sender_for: Callable[[Handler], Sender]
) -> None:
    outcome = await sender_for(lambda _: httpx.Response(status, text="boom")).deliver(
        URL, EVENT, timeout=1
    )
    assert not outcome.ok and outcome.retryable is retryable
    assert outcome.status == status and outcome.body == b"boom"


async def test_connection_errors_and_timeouts_are_retryable(
    sender_for: Callable[[Handler], Sender], sender: Sender
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    outcome = await sender_for(refuse).deliver(URL, EVENT, timeout=1)
    assert not outcome.ok and outcome.retryable and outcome.error_code == 500
    assert outcome.body.startswith(b"dispatch error: ConnectError")

    async def slow(event: dict[str, Any]) -> None:
        await asyncio.sleep(5)

    outcome = await sender.deliver(slow, EVENT, timeout=0.05)
    assert not outcome.ok and outcome.retryable and "0.05s" in outcome.error


async def test_callables(sender: Sender) -> None:
    async def fails(event: dict[str, Any]) -> None:
        raise KeyError("nope")

    async def replies(event: dict[str, Any]) -> dict[str, Any]:
        return {**event, "id": "reply"}

    async def wrong(event: dict[str, Any]) -> int:
        return 3

    assert (await sender.deliver(fails, EVENT, timeout=1)).error == "KeyError: 'nope'"
    assert (await sender.deliver(replies, EVENT, timeout=1)).reply == {**EVENT, "id": "reply"}
    outcome = await sender.deliver(wrong, EVENT, timeout=1)  # type: ignore[arg-type]
    assert "returns None or a reply" in outcome.error


def test_error_extensions_follow_knative() -> None:
    outcome = failure("x answered 500", status=500, body=b"boom")
    assert error_extensions("http://x/", outcome) == {
        "knativeerrordest": "http://x/",
        "knativeerrorcode": "500",
        "knativeerrordata": base64.b64encode(b"boom").decode(),
    }
    long = error_extensions("d", failure("big", status=502, body=b"z" * 5000))
    assert len(long["knativeerrordata"]) == ERROR_DATA_MAX


async def test_dead_letter_adds_the_extensions(sender: Sender) -> None:
    letters: list[dict[str, Any]] = []

    async def sink(event: dict[str, Any]) -> None:
        letters.append(event)

    async def subscriber(event: dict[str, Any]) -> None:
        return None

    subscription = Subscription("orders", subscriber, delivery=DeliverySpec(dead_letter_sink=sink))
    reason = await sender.dead_letter(subscription, EVENT, failure("boom"))
    assert reason is None
    assert letters[0]["knativeerrordest"] == "inprocess://orders"
    assert letters[0]["knativeerrorcode"] == "500"
    assert base64.b64decode(letters[0]["knativeerrordata"]) == b"dispatch error: boom"


async def test_dead_letter_without_or_with_a_failing_sink(sender: Sender) -> None:
    async def broken(event: dict[str, Any]) -> None:
        raise RuntimeError("sink down")

    bare = Subscription("a", URL)
    assert await sender.dead_letter(bare, EVENT, failure("boom")) == "boom"
    failing = Subscription("b", URL, delivery=DeliverySpec(dead_letter_sink=broken))
    reason = await sender.dead_letter(failing, EVENT, failure("boom"))
    assert reason == "boom; dead-letter sink failed too: RuntimeError: sink down"
