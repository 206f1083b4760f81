"""Webhooks of ``FakePlatform``: an ``http`` trigger's request starts an execution.

Mirrors the local platform's answers: 202 with the execution's id (``mode: async``, the
default), or, with ``mode: sync`` or ``?wait=``, the output (200) or the workflow error
with its own status. A trigger with ``secret: {type: token, header, prefix, value}``
refuses requests whose header does not carry it (401).
"""

from __future__ import annotations

import hmac
import json
from typing import TYPE_CHECKING, Any

from flowapp.server.invocations import error_status, execution_location, parse_wait
from flowapp.server.platform import NotFound, WebhookRequest, WebhookResponse
from flowapp.server.problems import PROBLEM_JSON, problem_json

if TYPE_CHECKING:
    from flowapp.server.testing import FakePlatform

PROBLEM = {"Content-Type": PROBLEM_JSON}
SYNC_WAIT = 30.0


async def answer_webhook(platform: FakePlatform, request: WebhookRequest) -> WebhookResponse:
    name, hook = _trigger(platform, request.path)
    methods = [str(m).upper() for m in hook.get("methods") or ["POST"]]
    if request.method.upper() not in methods:
        allowed = ", ".join(methods)
        detail = f"{request.method} is not accepted on {request.path}: use {allowed}"
        body = problem_json(405, detail, instance=request.path)
        return WebhookResponse(405, body, {**PROBLEM, "Allow": allowed})
    if not _authorized(hook, request):
        body = problem_json(401, "the webhook secret does not match", instance=request.path)
        return WebhookResponse(401, body, PROBLEM)
    wait = parse_wait(request.query.get("wait"), limit=3600.0)
    if wait is None and hook.get("mode") == "sync":
        wait = SYNC_WAIT
    result = await platform.invoke(name, _input(request.body), wait=wait)
    if wait is not None and result.status == "completed":
        return WebhookResponse(200, result.output)
    if wait is not None and result.status == "faulted" and result.error:
        return WebhookResponse(error_status(result.error), result.error, PROBLEM)
    location = {"Location": execution_location(result.id)}
    return WebhookResponse(202, {"id": result.id, "status": result.status}, location)


def _trigger(platform: FakePlatform, path: str) -> tuple[str, dict[str, Any]]:
    for name, app in platform.apps.items():
        hook = app.resource.webhooks.get(path)
        if hook is not None:
            return name, hook
    raise NotFound(f"no http trigger listens on {path}")


def _authorized(hook: dict[str, Any], request: WebhookRequest) -> bool:
    secret = hook.get("secret")
    if not isinstance(secret, dict) or "value" not in secret:
        return True
    header = str(secret.get("header", "Authorization")).lower()
    given = next((v for k, v in request.headers.items() if k.lower() == header), "")
    expected = str(secret.get("prefix", "")) + str(secret["value"])
    return hmac.compare_digest(given.encode(), expected.encode())


def _input(body: bytes) -> Any:
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")
