"""Broker ingress: an ASGI app that accepts CloudEvents over HTTP (Knative's broker-ingress).

``POST /`` publishes to the default broker; ``POST /{namespace}/{broker}`` (the Knative
path) to the broker registered under that pair. Binary, structured and batched modes are
accepted. Answers:

- 202 Accepted once ``publish`` returned, i.e. the event is durably stored (a duplicate
  is accepted too: it was stored before);
- 400 for an invalid event, 415 for a structured format other than JSON, 413 for a body
  over ``max_body_bytes`` (1 MiB by default; checked on ``Content-Length`` and while
  reading, for chunked bodies), 404 for an unknown broker, 503 when storage fails.

Errors are RFC 7807 problems (``application/problem+json``) with the spec's error types;
``instance`` is a JSON pointer to the offending attribute (``/id``, ``/2/source``).
The server module mounts this app; it has no state besides the brokers it is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from flowapp.dsl.errors import COMMUNICATION, VALIDATION, error
from flowapp.events.broker import Broker
from flowapp.events.cloudevents import Event, from_http
from flowapp.events.errors import EventsError, InvalidEvent

MAX_BODY_BYTES = 1024 * 1024
PROBLEM_JSON = "application/problem+json"


class _TooLarge(Exception):
    pass


def create_ingress(
    default: Broker | None = None,
    *,
    brokers: Mapping[tuple[str, str], Broker] | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> Starlette:
    """The ingress app. ``brokers`` maps ``(namespace, name)`` to a broker; it is read at
    each request, so a dict the caller keeps up to date works as a live registry."""
    registry = brokers if brokers is not None else {}

    async def root(request: Request) -> Response:
        return await _ingest(request, default, max_body_bytes)

    async def named(request: Request) -> Response:
        key = (request.path_params["namespace"], request.path_params["broker"])
        return await _ingest(request, registry.get(key), max_body_bytes)

    routes = [
        Route("/", root, methods=["POST"]),
        Route("/{namespace}/{broker}", named, methods=["POST"]),
    ]
    return Starlette(routes=routes)


async def _ingest(request: Request, broker: Broker | None, limit: int) -> Response:
    path = request.url.path
    if broker is None:
        return problem(404, "Not Found", f"no broker at {path}", instance=path)
    events = await read_events(request, limit)
    if isinstance(events, Response):
        return events
    try:
        for event in events:
            await broker.publish(event)
    except EventsError as exc:
        status = 503 if exc.retryable else 500
        return problem(status, "Broker Unavailable", str(exc), instance=path, kind=COMMUNICATION)
    return Response(status_code=202)


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
