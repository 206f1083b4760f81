"""The invocation contract as pure functions: which status and body an outcome gets."""

from __future__ import annotations

import pytest

from flowapp.server.invocations import BadParameter, answer, error_status, parse_wait
from flowapp.server.platform import InvocationResult

ERROR = {"type": "https://example.com/e", "status": 418, "title": "Teapot"}


def test_completed_with_wait_is_200_without_location() -> None:
    reply = answer(InvocationResult("e1", "completed", {"x": 1}), waited=True)
    assert (reply.status, reply.body, reply.headers) == (
        200,
        {"id": "e1", "status": "completed", "output": {"x": 1}},
        {},
    )


def test_faulted_with_wait_has_the_error_status() -> None:
    reply = answer(InvocationResult("e1", "faulted", error=ERROR), waited=True)
    assert reply.status == 418
    assert reply.body == {"id": "e1", "status": "faulted", "error": ERROR}


@pytest.mark.parametrize("status", ["completed", "faulted", "running", "suspended"])
def test_without_wait_it_is_202_with_location(status: str) -> None:
    reply = answer(InvocationResult("e1", status, error=ERROR), waited=False)
    assert reply.status == 202
    assert reply.body == {"id": "e1", "status": status}
    assert reply.headers == {"Location": "/api/v1/executions/e1"}


@pytest.mark.parametrize("status", ["running", "waiting", "suspended", "cancelled", "pending"])
def test_not_ended_in_time_is_202(status: str) -> None:
    assert answer(InvocationResult("e1", status), waited=True).status == 202


@pytest.mark.parametrize(
    ("status", "expected"),
    [(400, 400), (408, 408), (599, 599), (None, 500), (200, 500), (399, 500), (600, 500),
     ("404", 500), (True, 500), (404.0, 500)],
)  # fmt: skip
def test_error_status(status: object, expected: int) -> None:
    assert error_status({"status": status}) == expected


def test_a_fault_without_an_error_is_500() -> None:
    reply = answer(InvocationResult("e1", "faulted", error=None), waited=True)
    assert reply.status == 500 and reply.body["error"] == {}


@pytest.mark.parametrize(
    ("text", "seconds"), [(None, None), ("", None), ("30", 30.0), ("2.5", 2.5), ("PT1M", 60.0)]
)
def test_parse_wait(text: str | None, seconds: float | None) -> None:
    assert parse_wait(text, limit=300) == seconds


@pytest.mark.parametrize("text", ["-1", "301", "nan", "inf", "soon", "P1M"])
def test_parse_wait_refuses(text: str) -> None:
    with pytest.raises(BadParameter) as refused:
        parse_wait(text, limit=300)
    assert refused.value.status == 422
    assert refused.value.problems[0].pointer == "/wait"
