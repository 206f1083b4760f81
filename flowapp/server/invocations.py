"""The invocation contract: how an execution started by the API is answered.

``POST /api/v1/apps/{name}/executions[?wait=SECONDS]`` answers

- 200 ``{"id", "status", "output"}`` when the execution completed within ``wait``;
- the error's own status (its RFC 7807 ``status``; 500 when missing or not an HTTP
  error status) with ``{"id", "status", "error"}`` when it faulted within ``wait``;
- 202 ``{"id", "status"}`` with ``Location: /api/v1/executions/{id}`` otherwise, and
  always without ``wait``.

Pure functions, so the contract is tested without a server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flowapp.dsl.durations import DurationError, parse_iso_duration
from flowapp.dsl.problems import Problem
from flowapp.server.platform import InvocationResult, PlatformError


class BadParameter(PlatformError):
    status = 422
    title = "Invalid Request"

    def __init__(self, name: str, message: str) -> None:
        super().__init__(
            f"<query> /{name}: {message}", problems=[Problem(f"/{name}", message, "<query>")]
        )


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def execution_location(execution_id: str) -> str:
    return f"/api/v1/executions/{execution_id}"


def answer(result: InvocationResult, *, waited: bool) -> Answer:
    if waited and result.status == "completed":
        return Answer(200, {"id": result.id, "status": result.status, "output": result.output})
    if waited and result.status == "faulted":
        error = result.error or {}
        body = {"id": result.id, "status": result.status, "error": error}
        return Answer(error_status(error), body)
    location = {"Location": execution_location(result.id)}
    return Answer(202, {"id": result.id, "status": result.status}, location)


def error_status(error: dict[str, Any]) -> int:
    """The workflow error's HTTP status, if it is one an error may have (400-599)."""
    status = error.get("status")
    if isinstance(status, int) and not isinstance(status, bool) and 400 <= status <= 599:
        return status
    return 500


def parse_wait(value: str | None, *, limit: float) -> float | None:
    """``?wait=``: seconds (``30``, ``2.5``) or an ISO 8601 duration (``PT30S``)."""
    if value is None or not value.strip():
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parse_iso_duration(value)
        except DurationError as exc:
            raise BadParameter("wait", str(exc)) from None
    if not 0 <= seconds <= limit:  # also refuses nan
        raise BadParameter("wait", f"must be between 0 and {limit:g} seconds")
    return seconds


def idempotency_scope(app: str, key: str | None) -> str | None:
    """The dedupe key of an ``Idempotency-Key`` sent to ``app``: the caller's key within that
    app only, so the same key sent to another app (by another team, or by a token limited
    to that app) starts that app's own execution and never answers with this one's. The
    ``:`` keeps these apart from the keys triggers make (``<app>/<trigger>/...``), since
    an app name has none."""
    return None if key is None else f"api:{app}:{key}"
