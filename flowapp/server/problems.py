"""RFC 7807 problem objects: the one shape of every error the API answers.

A problem is ``{"type", "title", "status", "detail", "instance"}`` plus, when the request
carried a document with mistakes in it, ``problems``: where each mistake is (``file``,
``line``, ``column``, ``pointer``) and what it is (``message``). ``instance`` is the
request path, so a client log line says which call failed.

``type`` reuses the Serverless Workflow spec's standard error types where one fits (a
validation error, an authentication error ...), so the CLI and the dashboard read API
errors and workflow errors alike; statuses without a fitting kind use ``about:blank``,
which RFC 7807 defines as "nothing beyond the HTTP status".

Everything here is pure: the exception handlers (``errors.py``) and the middlewares
(``auth.py``, ``limits.py``) turn what went wrong into one of these and send it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

import orjson
from starlette.responses import Response

from flowapp.dsl.errors import (
    AUTHENTICATION,
    AUTHORIZATION,
    COMMUNICATION,
    RUNTIME,
    SPEC_ERRORS,
    TIMEOUT,
    VALIDATION,
)
from flowapp.dsl.problems import Problem

PROBLEM_JSON = "application/problem+json"
BLANK = "about:blank"
GENERIC_DETAIL = "the server failed to handle the request; the failure has been logged"

_KIND_BY_STATUS = {
    400: VALIDATION,
    401: AUTHENTICATION,
    403: AUTHORIZATION,
    408: TIMEOUT,
    413: VALIDATION,
    415: VALIDATION,
    422: VALIDATION,
    500: RUNTIME,
    502: COMMUNICATION,
    503: COMMUNICATION,
    504: TIMEOUT,
}


def status_title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_type(status: int) -> str:
    kind = _KIND_BY_STATUS.get(status)
    return SPEC_ERRORS + kind if kind else BLANK


def location_json(problem: Problem) -> dict[str, Any]:
    return {
        "file": problem.file,
        "line": problem.line,
        "column": problem.column,
        "pointer": problem.pointer,
        "message": problem.message,
    }


def problem_json(
    status: int,
    detail: str,
    *,
    instance: str,
    title: str | None = None,
    problems: Iterable[Problem] = (),
) -> dict[str, Any]:
    """The problem object; ``problems`` is present only when there are some."""
    body: dict[str, Any] = {
        "type": problem_type(status),
        "title": title or status_title(status),
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    locations = [location_json(problem) for problem in problems]
    if locations:
        body["problems"] = locations
    return body


def json_bytes(value: Any) -> bytes:
    """JSON of anything the API answers; strings with lone surrogates (a client can send
    them as ``\\ud800`` escapes, and problems quote what was sent) are escaped, not refused."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, ensure_ascii=True).encode()


def problem_response(
    body: Mapping[str, Any], *, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        json_bytes(body),
        status_code=int(body["status"]),
        media_type=PROBLEM_JSON,
        headers=dict(headers or {}),
    )


def text_position(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset, for errors reported by offset."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column
