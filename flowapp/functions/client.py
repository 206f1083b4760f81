"""The calling side of the contract: one CloudEvent out, the task's output back.

:func:`encode_call` builds the binary-mode request (``id`` = idempotency key, the
``flowapp*`` extensions, ``traceparent`` when the call is made inside a trace);
:func:`invoke` posts it over pooled keep-alive connections (``connections.py``); and
:func:`decode_reply` reads any reply the contract allows:

- 2xx with ``ce-specversion`` (binary) or ``application/cloudevents+json`` (structured):
  the event's data;
- other 2xx with a body: the body as JSON; 204 or an empty body: ``None``;
- non-2xx: :class:`FunctionReplyError` with the RFC 7807 body (or one made up from the
  status and text when the function sent something else).

Transport failures are converted here, at the adapter: a timeout to
:class:`FunctionTimeout`, a refused or dropped connection to :class:`FunctionUnavailable`.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import orjson

from flowapp.functions import tracecontext, wire
from flowapp.functions.connections import ConnectionFailed, Connections
from flowapp.functions.errors import (
    FunctionReplyError,
    FunctionTimeout,
    FunctionUnavailable,
    MalformedReply,
)
from flowapp.functions.port import FunctionCall
from flowapp.functions.sdk import ATTEMPT_ATTRIBUTE, EXECUTION_ATTRIBUTE, TASK_ATTRIBUTE

_PREVIEW = 200  # characters of an unreadable body quoted in error messages


def encode_call(call: FunctionCall, *, app: str) -> tuple[dict[str, str], bytes]:
    """Headers and body of a binary-mode ``dev.flowapp.function.invoked`` event from
    ``app`` (the caller resolves ``call.app`` against its own default)."""
    attributes: dict[str, str | int] = {
        "id": call.idempotency_key,
        "source": wire.source(app, call.function),
        "type": wire.INVOKED,
        EXECUTION_ATTRIBUTE: call.execution_id,
        TASK_ATTRIBUTE: call.task_reference,
        ATTEMPT_ATTRIBUTE: call.attempt,
    }
    traceparent = tracecontext.CURRENT.get()
    if traceparent is not None:  # the CloudEvents distributed tracing extension
        attributes[tracecontext.ATTRIBUTE] = traceparent
    return wire.binary_message(attributes, call.data)


async def invoke(
    connections: Connections,
    url: str,
    *,
    function: str,
    headers: dict[str, str],
    body: bytes,
    timeout: float,
) -> Any:
    """POST one encoded call to ``url`` and return the output (or raise a ``FunctionError``)."""
    try:
        reply = await connections.post(url, headers, body, timeout)
    except TimeoutError as exc:
        raise FunctionTimeout(function, timeout) from exc
    except ConnectionFailed as exc:
        raise FunctionUnavailable(function, f"{url}: {exc}") from exc
    return decode_reply(function, reply.status, reply.headers, reply.body)


def decode_reply(function: str, status: int, headers: Mapping[str, str], body: bytes) -> Any:
    """The output in a reply, or the matching exception. ``headers``: case-insensitive."""
    if not 200 <= status < 300:
        raise FunctionReplyError(function, status, reply_problem(status, headers, body))
    if wire.is_binary(headers) or wire.is_structured(headers):
        return _event_data(function, headers, body)
    if status == 204 or not body:
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        content_type = headers.get("content-type") or "no Content-Type"
        raise MalformedReply(
            function, f"reply is neither a CloudEvent nor JSON ({content_type}): {_preview(body)}"
        ) from exc


def reply_problem(status: int, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
    """The RFC 7807 problem of a non-2xx reply, made up if the body is not one."""
    try:
        parsed = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict):
        return {"status": status} | parsed if "status" not in parsed else parsed
    return wire.problem(status, _phrase(status), _preview(body) if body else None)


def _event_data(function: str, headers: Mapping[str, str], body: bytes) -> Any:
    try:
        if wire.is_structured(headers):
            data = wire.parse_event(headers, body).get_data()
        else:
            data = wire.binary_data(headers, body)
    except wire.MalformedEvent as exc:
        raise MalformedReply(function, f"reply is a malformed CloudEvent: {exc}") from exc
    if isinstance(data, bytes | bytearray):
        raise MalformedReply(function, "reply CloudEvent carries binary data, not JSON")
    return data


def _preview(body: bytes) -> str:
    text = body[:_PREVIEW].decode(errors="replace")
    return repr(text + ("..." if len(body) > _PREVIEW else ""))


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
