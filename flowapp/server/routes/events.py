"""Publishing CloudEvents to the event bus (``listen`` tasks, ``schedule.on``).

Structured mode (``application/cloudevents+json``, or a JSON object posted as
``application/json``), batches (``application/cloudevents-batch+json``) and binary mode
(``ce-*`` headers, the body as ``data``) are accepted and checked by the CloudEvents
codec (``flowapp.events.cloudevents``); an invalid event is a 400 pointing at the
attribute, and nothing of the request is published.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from flowapp.events.cloudevents import STRUCTURED, from_http
from flowapp.server import models
from flowapp.server.bodies import media_type, parse_json
from flowapp.server.deps import EventsDep
from flowapp.server.openapi import errors, request_body

router = APIRouter(prefix="/api/v1", tags=["events"])

CLOUDEVENTS = "application/cloudevents"

EVENT_SCHEMA = {
    "type": "object",
    "required": ["specversion", "id", "source", "type"],
    "properties": {
        "specversion": {"type": "string", "enum": ["1.0"]},
        "id": {"type": "string", "minLength": 1},
        "source": {"type": "string", "minLength": 1},
        "type": {"type": "string", "minLength": 1},
    },
}
EVENT_BODY = request_body(
    {STRUCTURED: {"schema": EVENT_SCHEMA}, "application/json": {"schema": EVENT_SCHEMA}}
)


@router.post(
    "/events",
    status_code=202,
    response_model=models.EventsAccepted,
    responses=errors(400, 413, 415, 422),
    openapi_extra=EVENT_BODY,
)
async def publish(request: Request, bus: EventsDep) -> Any:
    """Publish one CloudEvent (or a batch) to the event bus."""
    body = await request.body()
    headers = dict(request.headers)
    kind = media_type(request)
    if not _binary(headers) and (kind == "application/json" or kind.startswith(CLOUDEVENTS)):
        parse_json(body)  # a malformed body is a 400 with its line and column
        if kind == "application/json":
            headers["content-type"] = STRUCTURED
    events = from_http(headers, body)
    for event in events:
        await bus.publish_event(event)
    return {"ids": [str(event["id"]) for event in events]}


def _binary(headers: dict[str, str]) -> bool:
    return any(name.lower().startswith("ce-") for name in headers)
