"""Every error a command can meet becomes a message and a documented exit code."""

from __future__ import annotations

import pytest

from flowapp.cli.failures import (
    EXIT_ENVIRONMENT,
    EXIT_FAULTED,
    EXIT_INVALID,
    ApiError,
    EnvironmentProblem,
    InvalidInput,
    Unreachable,
    explain,
)
from flowapp.dsl.problems import DefinitionError, Problem
from flowapp.server.platform import Conflict
from flowapp.store.port import StoreError, StoreUnavailable


@pytest.mark.parametrize(
    ("error", "code", "says"),
    [
        (InvalidInput("no execution 01ab"), EXIT_INVALID, "Error: no execution 01ab"),
        (EnvironmentProblem("no server to talk to"), EXIT_ENVIRONMENT, "no server"),
        (Unreachable("cannot reach http://h:1"), EXIT_ENVIRONMENT, "cannot reach"),
        (
            DefinitionError([Problem("/do/0", "bad", file="w.yaml", line=3, column=5)]),
            EXIT_INVALID,
            "w.yaml:3:5: /do/0: bad",
        ),
        (StoreUnavailable("connection refused"), EXIT_ENVIRONMENT, "cannot reach the database"),
        (StoreError("disk I/O error"), EXIT_ENVIRONMENT, "the database failed"),
        (Conflict("app shop has no deployed revision"), EXIT_INVALID, "no deployed revision"),
        (PermissionError(13, "Permission denied", "/etc/x"), EXIT_ENVIRONMENT, "/etc/x"),
        (RuntimeError("boom"), EXIT_ENVIRONMENT, "unexpected RuntimeError: boom"),
    ],
)
def test_each_error_has_a_message_and_a_code(error: Exception, code: int, says: str) -> None:
    failure = explain(error)
    assert failure.code == code
    assert says in "\n".join(failure.lines)


@pytest.mark.parametrize(
    ("status", "title", "code"),
    [
        (401, "Unauthorized", EXIT_ENVIRONMENT),
        (403, "Forbidden", EXIT_ENVIRONMENT),
        (404, "Not Found", EXIT_INVALID),
        (409, "Conflict", EXIT_INVALID),
        (422, "Invalid FlowApp", EXIT_INVALID),
        (422, "Deploy Failed", EXIT_FAULTED),
        (500, "Internal Server Error", EXIT_ENVIRONMENT),
        (503, "Service Unavailable", EXIT_ENVIRONMENT),
    ],
)
def test_a_server_problem_is_coded_by_its_status(status: int, title: str, code: int) -> None:
    failure = explain(ApiError({"status": status, "title": title, "detail": "why"}))
    assert failure.code == code
    assert failure.lines[0] == f"Error: {title}: why"


def test_a_refused_token_says_how_to_log_in_again() -> None:
    failure = explain(ApiError({"status": 401, "title": "Unauthorized"}))
    assert any("flowapp login" in hint for hint in failure.hints)


def test_a_bug_asks_for_the_traceback_and_a_report() -> None:
    failure = explain(KeyError("items"))
    assert any("--debug" in hint for hint in failure.hints)
