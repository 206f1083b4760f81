"""A request to an app's ``http`` trigger, answered: the same on one machine and on a
cluster's engine.

    request --methods allowed?--> trigger.handle (secret or signature checked, the
        execution started by the trigger's sink, which records its id under the event's
        key) --> 202 with the execution, or with ``?wait=`` / ``mode: sync`` its outcome

A synchronous answer is the workflow's output (200) or its error as a problem with the
error's status; an execution still running when the time is up is a 202.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from flowapp.dsl.durations import DurationError, parse_iso_duration
from flowapp.local.triggers import trigger_key
from flowapp.server import platform as p
from flowapp.triggers.errors import WebhookError
from flowapp.triggers.webhook import HttpRequest
from flowapp.triggers.webhook_trigger import WebhookTrigger

PROBLEM = {"Content-Type": "application/problem+json"}
SYNC_WAIT_SECONDS = 30.0
WaitFor = Callable[[str, float], Awaitable[Any]]  # the runtime's wait_for


def parse_wait(value: str | None) -> float | None:
    """``?wait=`` as seconds: ``30``, ``2.5``, or an ISO 8601 duration such as ``PT30S``."""
    if value in (None, ""):
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return parse_iso_duration(value)
        except DurationError as exc:
            raise p.PlatformError(f"wait: {exc}") from None


async def answer_webhook(
    app: str,
    trigger: WebhookTrigger,
    request: p.WebhookRequest,
    *,
    started: dict[str, str],
    wait_for: WaitFor,
) -> p.WebhookResponse:
    """``started``: the ids of the executions the app's triggers started, by event key."""
    if request.method.upper() not in trigger.webhook.methods:
        return method_not_allowed(request, trigger.webhook.methods)
    wait = parse_wait(request.query.get("wait"))
    if wait is None and trigger.webhook.mode == "sync":
        wait = SYNC_WAIT_SECONDS
    try:
        event = await trigger.handle(
            HttpRequest(request.method, request.path, request.headers, request.body)
        )
    except WebhookError as exc:
        return p.WebhookResponse(exc.status, exc.problem(), PROBLEM)
    execution_id = started.pop(trigger_key(app, trigger.name, event), None)
    if execution_id is None:
        raise p.PlatformError("the webhook's execution could not be started")
    return await _answer(execution_id, wait, wait_for)


async def _answer(execution_id: str, wait: float | None, wait_for: WaitFor) -> p.WebhookResponse:
    location = {"Location": f"/api/v1/executions/{execution_id}"}
    if wait is None:
        return p.WebhookResponse(202, {"id": execution_id, "status": "running"}, location)
    outcome = await wait_for(execution_id, wait)
    if outcome.status == "completed":
        return p.WebhookResponse(200, outcome.output)
    if outcome.status in ("faulted", "cancelled") and outcome.error:
        status = outcome.error.get("status")
        code = status if isinstance(status, int) and 400 <= status <= 599 else 500
        return p.WebhookResponse(code, outcome.error, PROBLEM)
    return p.WebhookResponse(202, {"id": execution_id, "status": outcome.status}, location)


def method_not_allowed(request: p.WebhookRequest, methods: tuple[str, ...]) -> p.WebhookResponse:
    """405 with ``Allow``: the trigger takes other methods (RFC 9110 section 15.5.6)."""
    allowed = ", ".join(methods)
    detail = f"{request.method} is not accepted on {request.path}: use {allowed}"
    problem = WebhookError(405, "Method Not Allowed", detail).problem()
    problem["instance"] = request.path
    return p.WebhookResponse(405, problem, {**PROBLEM, "Allow": allowed})
