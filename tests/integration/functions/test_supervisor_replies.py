"""Replies through the supervisor: outputs, reply errors, malformed replies.

The supervisors are shared by the module's tests (start-ups are slow); no test changes
their state.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from prometheus_client import CollectorRegistry

from flowapp.functions.errors import (
    FunctionReplyError,
    FunctionUnavailable,
    MalformedReply,
)
from flowapp.functions.spec import FunctionSpec, Runtime
from flowapp.functions.supervisor import Supervisor
from tests.calls import call

pytestmark = pytest.mark.asyncio(loop_scope="module")
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "functions"
ECHO = {"python": FIXTURES / "echo", "node": FIXTURES / "node_echo"}


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["python", "node"])
async def echo(request: pytest.FixtureRequest) -> AsyncIterator[Supervisor]:
    runtime: Runtime = request.param
    spec = FunctionSpec("echo", runtime, ECHO[runtime])
    async with Supervisor([spec], app="shop", registry=CollectorRegistry()) as supervisor:
        yield supervisor


async def test_call_returns_the_output(echo: Supervisor) -> None:
    output = await call(
        echo,
        "echo",
        {"text": "hi"},
        execution_id="e7",
        task_reference="/do/1/echo",
        attempt=3,
        idempotency_key="e7/do/1/echo/3",
    )

    assert output["echo"] == {"text": "hi"}
    assert output["execution_id"] == "e7"
    assert output["task_reference"] == "/do/1/echo"
    assert output["attempt"] == 3
    assert output["idempotency_key"] == "e7/do/1/echo/3"
    assert echo.status()["echo"].state == "ready"


async def test_large_inputs_and_outputs(echo: Supervisor) -> None:
    text = "x" * (3 * 1024 * 1024)  # beyond aiohttp's 1 MiB default body limit

    assert (await call(echo, "echo", {"text": text}))["echo"]["text"] == text


async def test_function_error_raises_reply_error_with_status(echo: Supervisor) -> None:
    fail = {"status": 404, "title": "No such user", "detail": "user 7"}

    with pytest.raises(FunctionReplyError) as caught:
        await call(echo, "echo", {"fail": fail})

    assert caught.value.status == 404
    assert caught.value.problem["title"] == "No such user"
    assert caught.value.to_problem(instance="/do/0/step")["status"] == 404
    assert "'echo'" in str(caught.value)


async def test_unhandled_exception_raises_reply_error_500(echo: Supervisor) -> None:
    with pytest.raises(FunctionReplyError) as caught:
        await call(echo, "echo", {"raise": "disk full"})

    assert caught.value.status == 500
    assert "disk full" in caught.value.problem["detail"]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def raw() -> AsyncIterator[Supervisor]:
    command = f"{sys.executable} server.py"
    spec = FunctionSpec("raw", "command", FIXTURES / "raw_replies", command=command)
    async with Supervisor([spec], registry=CollectorRegistry()) as supervisor:
        yield supervisor


@pytest.mark.parametrize(
    ("mode", "match"),
    [("text", "neither a CloudEvent nor JSON"), ("badce", "malformed CloudEvent")],
)
async def test_malformed_replies_raise_malformed_reply(
    raw: Supervisor, mode: str, match: str
) -> None:
    with pytest.raises(MalformedReply, match=match):
        await call(raw, "raw", {"mode": mode})


async def test_plain_json_and_empty_replies_are_outputs(raw: Supervisor) -> None:
    assert await call(raw, "raw", {"mode": "plain"}) == {"plain": True}
    assert await call(raw, "raw", {"mode": "empty"}) is None


async def test_a_non_problem_error_body_still_gives_a_problem(raw: Supervisor) -> None:
    with pytest.raises(FunctionReplyError) as caught:
        await call(raw, "raw", {"mode": "html500"})

    assert caught.value.problem["status"] == 500
    assert caught.value.problem["title"] == "Internal Server Error"
    assert "oops" in caught.value.problem["detail"]


async def test_unknown_function_is_unavailable(echo: Supervisor) -> None:
    with pytest.raises(FunctionUnavailable, match="'nope': no such function"):
        await call(echo, "nope", {})
