"""What Knative delivers to the engine: an ASGI app on a port of its own.

    Knative source ─> Broker ─> Trigger <app>-on-<t> ─> POST /apps/<app>/triggers/<t>/events
    engine `emit`  ─> Broker ─> Trigger <app>-events ─> POST /apps/<app>/events

- ``/apps/<app>/triggers/<t>/events``: one CloudEvent from the source of trigger ``<t>``
  (a trigger the operator made a Knative source) starts an execution as that trigger
  would on one machine: its input is the event's data (or the event, with ``read:
  envelope``), and its dedupe key is the app, the trigger and the event's source and id.
  The answer is 202 only once the execution is in the database, a redelivery or a
  delivery of the same event to another replica finds that execution and answers 202
  too, and anything that failed answers 5xx, so Knative's retries (the Trigger's
  ``delivery``) cover every failure and never start a second execution.
- ``/apps/<app>/events``: an event the app's workflow may wait for (``listen``) or start
  on (``schedule.on``). It is queued in the database for each listening execution
  (whichever replica holds it picks it up) and starts a ``schedule.on`` execution
  (deduplicated by the event's source and id) before the answer: 202 means nothing is
  lost if this replica dies next.
- ``/healthz`` (the process answers) and ``/readyz`` (the engine runs and its database
  answers) for the Deployment's probes.

No token: Knative's deliveries carry none. The port is the engine Service's
``deliveries`` port, reachable inside the cluster only (the API, with its tokens, is the
other port); docs/kubernetes.md shows a NetworkPolicy that admits only Knative's
dispatchers. Answers are plain JSON, never a CloudEvent: Knative would publish a
CloudEvent answer back to the Broker as a reply.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from flowapp.cluster.listeners import ListenerDelivery
from flowapp.cluster.platform import ClusterPlatform
from flowapp.dsl.errors import COMMUNICATION, RUNTIME
from flowapp.events.http_events import problem, read_events
from flowapp.local.triggers import execution_input, trigger_key
from flowapp.server.platform import PlatformError
from flowapp.store.port import StoreError
from flowapp.triggers.base import TriggerConfig

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 1024 * 1024
Ready = Callable[[], Awaitable[str | None]]


def create_deliveries(
    platform: ClusterPlatform,
    *,
    sourced: Mapping[str, TriggerConfig],
    listeners: ListenerDelivery,
    ready: Ready,
) -> Starlette:
    """``sourced``: the triggers Knative delivers (their configs say how to read an event);
    ``ready()``: None when the engine can take work, else why not."""
    app_name = platform.app.name

    async def trigger_event(request: Request) -> Response:
        path = request.url.path
        config = sourced.get(request.path_params["trigger"])
        if request.path_params["app"] != app_name or config is None:
            detail = f"no trigger of app {app_name} is delivered at {path}"
            return problem(404, "Not Found", detail, instance=path)
        event = await _one_event(request, max(config.max_bytes, MAX_BODY_BYTES))
        if isinstance(event, Response):
            return event
        key = trigger_key(app_name, config.name, event)
        return await _answer(path, platform.start_execution(execution_input(config, event), key))

    async def listened_event(request: Request) -> Response:
        path = request.url.path
        if request.path_params["app"] != app_name:
            return problem(404, "Not Found", f"this engine serves {app_name}", instance=path)
        event = await _one_event(request, MAX_BODY_BYTES)
        if isinstance(event, Response):
            return event
        return await _answer(path, listeners.deliver(event))

    async def healthz(request: Request) -> Response:
        return _json(200, {"status": "ok"})

    async def readyz(request: Request) -> Response:
        why = await ready()
        if why is not None:
            return _json(503, {"status": "not ready", "reason": why})
        return _json(200, {"status": "ready"})

    routes = [
        Route("/apps/{app}/triggers/{trigger}/events", trigger_event, methods=["POST"]),
        Route("/apps/{app}/events", listened_event, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        Route("/readyz", readyz, methods=["GET", "HEAD"]),
    ]
    return Starlette(routes=routes)


async def _one_event(request: Request, limit: int) -> dict[str, Any] | Response:
    """The request's one CloudEvent (binary or structured mode), or the problem answer."""
    events = await read_events(request, limit)
    if isinstance(events, Response):
        return events
    if len(events) != 1:
        detail = f"a delivery holds one CloudEvent, not {len(events)}"
        return problem(400, "Invalid CloudEvent", detail, instance="/")
    return events[0]


async def _answer(path: str, work: Awaitable[Any]) -> Response:
    """202 with what was done; a failure as a problem whose status tells Knative whether
    to try again (5xx: yes; 4xx but 404/408/409/429: no, the event goes dead-letter)."""
    try:
        done = await work
    except PlatformError as exc:  # the input is over the limit: retrying cannot help
        return problem(exc.status, exc.title, exc.detail, instance=path)
    except StoreError as exc:
        log.warning("delivery to %s failed: the database: %s", path, exc)
        return problem(503, "Store Unavailable", str(exc), instance=path, kind=COMMUNICATION)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.exception("delivery to %s failed", path)
        detail = f"{type(exc).__name__}: {exc}"
        return problem(500, "Internal Server Error", detail, instance=path, kind=RUNTIME)
    if isinstance(done, tuple):
        execution_id, duplicate = done
        return _json(202, {"id": execution_id, "duplicate": duplicate})
    return _json(202, done)


def _json(status: int, body: Any) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")
