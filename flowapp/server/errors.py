"""Every exception a request can end in, answered as an RFC 7807 problem.

    PlatformError (and subclasses)   -> its own status and title, with its problems
    store errors (tokens, alerts)    -> 404 / 409 / 422 / 503 by type
    InvalidEvent (CloudEvents)       -> 400, or 415 for an unsupported event format
    RequestValidationError           -> 400 for a body that is not JSON (line, column),
                                        else 422 with one problem per invalid field
    HTTPException (404, 405 ...)     -> its status, its headers kept (``Allow``)
    anything else (a bug)            -> 500 with a generic detail; logged here with its
                                        traceback, which never reaches the client

``install(app)`` registers the handlers. ``instance`` is always the request path.
"""

from __future__ import annotations

import functools
import logging
import re
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from flowapp.dsl.problems import Problem
from flowapp.events.errors import InvalidEvent
from flowapp.server.platform import PlatformError
from flowapp.server.problems import (
    GENERIC_DETAIL,
    problem_json,
    problem_response,
    status_title,
    text_position,
)
from flowapp.store.platform import AlreadyExists, InvalidValue, NotFound
from flowapp.store.port import StoreError, StoreUnavailable

log = logging.getLogger(__name__)
OPERATIONS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def install(app: FastAPI) -> None:
    for kind in (
        PlatformError,
        StoreError,
        InvalidEvent,
        RequestValidationError,
        HTTPException,
        Exception,
    ):
        app.add_exception_handler(kind, handle)


async def handle(request: Request, exc: Exception) -> Response:
    """The problem answering ``exc`` (registered for every exception type above)."""
    path = request.url.path
    if isinstance(exc, PlatformError):
        # One line, never a traceback: a refusal is the request's doing, not the server's.
        # Over a limit is worth seeing at the default level (it may be someone probing).
        level = logging.WARNING if exc.status == 413 else logging.INFO
        log.log(level, "%s %s refused (%d): %s", request.method, path, exc.status, exc.detail)
        body = problem_json(
            exc.status, exc.detail, instance=path, title=exc.title, problems=exc.problems
        )
        return problem_response(body)
    if isinstance(exc, StoreError) and store_status(exc) != 500:
        return problem_response(problem_json(store_status(exc), str(exc), instance=path))
    if isinstance(exc, InvalidEvent):
        return problem_response(_event_problem(exc, path))
    if isinstance(exc, RequestValidationError):
        return problem_response(_validation_problem(exc, path))
    if isinstance(exc, HTTPException):
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        return problem_response(_http_problem(exc, request), headers=headers)
    log.error("%s %s failed", request.method, path, exc_info=exc)
    return problem_response(problem_json(500, GENERIC_DETAIL, instance=path))


def store_status(exc: StoreError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, AlreadyExists):
        return 409
    if isinstance(exc, InvalidValue):
        return 422
    if isinstance(exc, StoreUnavailable):
        return 503
    return 500


def _event_problem(exc: InvalidEvent, path: str) -> dict[str, Any]:
    title = "Unsupported Media Type" if exc.status == 415 else "Invalid CloudEvent"
    problems = [Problem(exc.pointer, exc.message, "<event>")] if exc.pointer else []
    return problem_json(exc.status, exc.message, instance=path, title=title, problems=problems)


def _validation_problem(exc: RequestValidationError, path: str) -> dict[str, Any]:
    errors = list(exc.errors())
    broken = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if broken is not None:
        return _not_json(broken, exc.body, path)
    problems = [_field_problem(error) for error in errors]
    detail = "; ".join(f"{p.file} {p.pointer or '/'}: {p.message}" for p in problems)
    return problem_json(422, detail, instance=path, title="Invalid Request", problems=problems)


def _not_json(error: dict[str, Any], document: Any, path: str) -> dict[str, Any]:
    offset = error["loc"][1] if len(error["loc"]) > 1 else 0
    text = document.decode("utf-8", "replace") if isinstance(document, bytes) else str(document)
    line, column = text_position(text, int(offset))
    reason = error.get("ctx", {}).get("error", "invalid JSON")
    message = f"the body is not JSON: {reason}"
    problem = Problem("", message, "<body>", line, column)
    detail = f"{message} (at line {line}, column {column})"
    return problem_json(400, detail, instance=path, title="Bad Request Body", problems=[problem])


def _field_problem(error: dict[str, Any]) -> Problem:
    """A pydantic error as a problem: ``file`` says which part of the request (body,
    query, path, header), ``pointer`` where in it."""
    where, *rest = error.get("loc") or ("body",)
    pointer = "".join(f"/{part}" for part in rest)
    return Problem(pointer=pointer, message=str(error.get("msg", "invalid")), file=f"<{where}>")


def allowed_methods(request: Request) -> str:
    """Every method the OpenAPI document gives this path. Starlette's own ``Allow`` names
    only the first route whose path matches, but ``GET`` and ``POST /apps`` are two."""
    path = request.url.path
    paths: dict[str, dict[str, Any]] = request.app.openapi()["paths"]
    methods = {
        method.upper()
        for template, item in paths.items()
        if _template(template).fullmatch(path)
        for method in item
        if method in OPERATIONS
    }
    return ", ".join(sorted(methods))


@functools.lru_cache(maxsize=256)
def _template(path: str) -> re.Pattern[str]:
    """``/api/v1/apps/{name}`` as a pattern matching the paths it stands for."""
    parts = re.split(r"\{[^}/]+\}", path)
    return re.compile("[^/]+".join(re.escape(part) for part in parts))


def _http_problem(exc: HTTPException, request: Request) -> dict[str, Any]:
    path = request.url.path
    detail = exc.detail if isinstance(exc.detail, str) else status_title(exc.status_code)
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no route {path}"
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed on {path}"
    return problem_json(exc.status_code, detail, instance=path)
