"""Webhooks: ``/hooks/...``, any method, handed to the app whose ``http`` trigger
listens on the path.

No API token here: a webhook's caller (GitHub, a payment provider, a form) has none, so
the trigger checks its own secret or signature (``Platform.handle_webhook``). The
trigger's answer (202 with the execution's id, or its outcome for a sync trigger) is
sent as it is; a JSON body is encoded here. Not in the OpenAPI document: what a webhook
accepts and answers is defined by each app's trigger, not by this API.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from flowapp.server.deps import WebhooksDep
from flowapp.server.platform import WebhookRequest, WebhookResponse
from flowapp.server.problems import json_bytes

router = APIRouter()

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@router.api_route("/hooks/{path:path}", methods=METHODS, include_in_schema=False)
async def webhook(request: Request, webhooks: WebhooksDep) -> Response:
    hook = WebhookRequest(
        method=request.method,
        path=request.url.path,
        headers=dict(request.headers),
        body=await request.body(),
        query=dict(request.query_params),
    )
    return webhook_response(await webhooks.handle_webhook(hook))


def webhook_response(answer: WebhookResponse) -> Response:
    headers = dict(answer.headers)
    content_type = _pop_content_type(headers)
    body = _encode(answer.body)
    if content_type is None and answer.body is not None:
        content_type = "application/json" if not isinstance(answer.body, bytes) else None
    return Response(body, status_code=answer.status, headers=headers, media_type=content_type)


def _pop_content_type(headers: dict[str, str]) -> str | None:
    for name in list(headers):
        if name.lower() == "content-type":
            return headers.pop(name)
    return None


def _encode(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    return json_bytes(body)
