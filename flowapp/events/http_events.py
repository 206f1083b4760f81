"""CloudEvents read from an HTTP request, and the problems a receiver answers with.

``read_events`` reads binary, structured and batched modes, refusing a body over its
limit (checked on ``Content-Length`` and while reading, for chunked bodies); what it
cannot accept comes back as the RFC 7807 answer to give: 413 for a body too large, 400
for an invalid event, 415 for a structured format other than JSON. Problems carry the
spec's error types; ``instance`` is a JSON pointer to the offending attribute (``/id``,
``/2/source``). Used by the cluster engine's delivery endpoint (Knative delivers
triggers' events there); the API's ``POST /api/v1/events`` is the platform's ingress.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from flowapp.dsl.errors import VALIDATION, error
from flowapp.events.cloudevents import Event, from_http
from flowapp.events.errors import InvalidEvent

MAX_BODY_BYTES = 1024 * 1024
PROBLEM_JSON = "application/problem+json"


class _TooLarge(Exception):
    pass


async def read_events(request: Request, limit: int) -> list[Event] | Response:
    """The request's CloudEvents (binary, structured or batched mode), or the problem to
    answer: 413 for a body over ``limit`` bytes, 400 or 415 for an invalid event."""
    try:
        return from_http(request.headers, await _read_body(request, limit))
    except _TooLarge:
        detail = f"the body is larger than {limit} bytes"
        return problem(413, "Payload Too Large", detail, instance=request.url.path)
    except InvalidEvent as exc:
        title = "Unsupported Media Type" if exc.status == 415 else "Invalid CloudEvent"
        return problem(exc.status, title, exc.message, instance=exc.pointer or "/")


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def problem(
    status: int, title: str, detail: str, *, instance: str, kind: str = VALIDATION
) -> Response:
    """An RFC 7807 answer with one of the spec's standard error types."""
    body: dict[str, Any] = error(kind, detail, instance=instance, status=status, title=title)
    return Response(orjson.dumps(body), status_code=status, media_type=PROBLEM_JSON)
