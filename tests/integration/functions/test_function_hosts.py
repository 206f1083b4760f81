"""The HTTP contract, straight to a host (no supervisor): one body for Python and Node.js."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

# One host per runtime for the whole module: these tests leave it as they found it.
# (The Go host's first build with an empty cache compiles standard library packages.)
pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(600)]

CE = {
    "ce-specversion": "1.0",
    "ce-id": "e1/do/0/step/2",
    "ce-source": "/flowapp/shop/echo",
    "ce-type": "dev.flowapp.function.invoked",
    "ce-flowappexecution": "e1",
    "ce-flowapptask": "/do/0/step",
    "ce-flowappattempt": "2",
    "content-type": "application/json",
}


async def test_health(host: Any) -> None:
    async with host.session.get(host.url + "healthz") as response:
        assert response.status == 200


async def test_binary_mode_call_and_reply(host: Any) -> None:
    status, headers, body = await host.post(b'{"text": "hi"}', CE)

    assert status == 200
    assert headers["ce-type"] == "dev.flowapp.function.replied"
    assert headers["ce-source"].startswith("/flowapp/shop/")
    assert headers["ce-flowappexecution"] == "e1"
    output = orjson.loads(body)
    assert output["echo"] == {"text": "hi"}
    assert output["execution_id"] == "e1"
    assert output["task_reference"] == "/do/0/step"
    assert output["attempt"] == 2
    assert output["idempotency_key"] == "e1/do/0/step/2"


async def test_structured_mode_call_gets_a_structured_reply(host: Any) -> None:
    event = {
        "specversion": "1.0",
        "id": "k1",
        "source": "/test",
        "type": "dev.flowapp.function.invoked",
        "flowappexecution": "e9",
        "datacontenttype": "application/json",
        "data": [1, 2],
    }
    headers = {"content-type": "application/cloudevents+json"}

    status, reply_headers, body = await host.post(orjson.dumps(event), headers)

    assert status == 200
    assert reply_headers["Content-Type"].startswith("application/cloudevents+json")
    reply = orjson.loads(body)
    assert reply["type"] == "dev.flowapp.function.replied"
    assert reply["data"]["echo"] == {"value": [1, 2]}
    assert reply["data"]["execution_id"] == "e9"


async def test_function_error_is_its_status_with_a_problem(host: Any) -> None:
    fail = {"fail": {"status": 422, "title": "Missing text", "detail": "no text"}}

    status, headers, body = await host.post(orjson.dumps(fail), CE)

    assert status == 422
    assert headers["Content-Type"] == "application/problem+json"
    problem = orjson.loads(body)
    assert problem["title"] == "Missing text"
    assert problem["detail"] == "no text"
    assert problem["status"] == 422


async def test_unhandled_exception_is_a_500_problem_with_its_message(host: Any) -> None:
    status, headers, body = await host.post(b'{"raise": "disk full"}', CE)

    assert status == 500
    assert headers["Content-Type"] == "application/problem+json"
    assert "disk full" in orjson.loads(body)["detail"]


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({"content-type": "application/json"}, b'{"not": "an event"}'),
        (CE, b"{invalid json"),
        ({"content-type": "application/cloudevents+json"}, b'{"specversion": "1.0"}'),
    ],
    ids=["no-cloudevent", "invalid-json", "missing-attributes"],
)
async def test_malformed_request_is_a_400_problem(
    host: Any, headers: dict[str, str], body: bytes
) -> None:
    status, reply_headers, reply = await host.post(body, headers)

    assert status == 400
    assert reply_headers["Content-Type"] == "application/problem+json"
    assert orjson.loads(reply)["status"] == 400
