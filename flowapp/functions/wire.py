"""Function calls on the wire: CloudEvents 1.0 over HTTP, both content modes.

Shared by the Python host (parses requests, builds replies) and the supervisor's client
(builds requests, parses replies), so both sides agree byte for byte. Attribute mapping,
percent-encoding of ``ce-*`` headers and validation come from the CloudEvents SDK
(``cloudevents.core.bindings.http``); only the *data* codec is ours
(:class:`JSONDataFormat`), because a function's data is any JSON value (a list, a string,
``true``) and the SDK's default codec only round-trips objects.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import quote

import orjson
from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings import http as ce_http
from cloudevents.core.exceptions import BaseCloudEventException
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

INVOKED: Final = "dev.flowapp.function.invoked"
REPLIED: Final = "dev.flowapp.function.replied"
STRUCTURED_TYPE: Final = "application/cloudevents+json"
JSON_TYPE: Final = "application/json"
PROBLEM_TYPE: Final = "application/problem+json"
PROBLEMS: Final = "https://flowapp.dev/problems/"  # type URIs of problems the hosts make up

_JSON_MEDIA = re.compile(r"^\s*(application|text)/([a-z0-9.\-]+\+)?json\s*(;.*)?$", re.I)


class MalformedEvent(ValueError):
    """An HTTP message that is not a valid CloudEvent 1.0 with readable data."""


class JSONDataFormat(JSONFormat):
    """The SDK's JSON event format with strict JSON data of any type (orjson)."""

    def write_data(self, data: Any, datacontenttype: str | None) -> bytes:
        if data is None:
            return b""
        if isinstance(data, bytes | bytearray):
            return bytes(data)
        if isinstance(data, str) and not is_json_media(datacontenttype or JSON_TYPE):
            return data.encode()
        return orjson.dumps(data)

    def read_data(self, body: bytes, datacontenttype: str | None) -> Any:
        if not body:
            return None
        if is_json_media(datacontenttype or JSON_TYPE):
            return orjson.loads(body)  # invalid JSON is a malformed event, not a string
        try:
            return body.decode()
        except UnicodeDecodeError:
            return body


FORMAT: Final = JSONDataFormat()


def is_json_media(content_type: str | None) -> bool:
    return bool(content_type) and _JSON_MEDIA.match(content_type or "") is not None


def is_structured(headers: Mapping[str, str]) -> bool:
    return (headers.get("content-type") or "").lower().startswith(STRUCTURED_TYPE)


def is_binary(headers: Mapping[str, str]) -> bool:
    return "ce-specversion" in headers


def source(app: str, function: str) -> str:
    return f"/flowapp/{app}/{function}"


def make_event(attributes: dict[str, Any], data: Any) -> BaseCloudEvent:
    """A CloudEvent 1.0; the SDK fills ``specversion`` and ``time`` and validates."""
    return CloudEvent(attributes, data)


def encode_event(
    event: BaseCloudEvent, *, structured: bool = False
) -> tuple[dict[str, str], bytes]:
    """HTTP headers and body for ``event`` in binary (default) or structured mode."""
    message = (
        ce_http.to_structured(event, FORMAT) if structured else ce_http.to_binary(event, FORMAT)
    )
    return message.headers, message.body


# The supervisor's hot path (one request out, one reply in per call) skips the SDK's event
# objects: it builds the headers itself and reads only the data of a binary reply, which
# saves ~40 us per call (mostly the SDK adding a `time` and parsing it back with dateutil).
# Both are checked against the SDK in tests/unit/functions/test_function_wire.py.

_HEADER_SAFE = "".join(c for c in map(chr, range(0x21, 0x7F)) if c not in ' "%')


def binary_message(attributes: Mapping[str, str | int], data: Any) -> tuple[dict[str, str], bytes]:
    """Headers and body of a binary-mode JSON event: what ``encode_event`` gives, faster.

    ``attributes`` must hold ``id``, ``source`` and ``type``; ``datacontenttype`` is JSON.
    """
    headers = {"ce-specversion": "1.0", "content-type": JSON_TYPE}
    for name, value in attributes.items():
        headers["ce-" + name] = quote(str(value), safe=_HEADER_SAFE)
    return headers, b"" if data is None else orjson.dumps(data)


def binary_data(headers: Mapping[str, str], body: bytes) -> Any:
    """The data of a binary-mode event, checking the required attributes only."""
    if headers.get("ce-specversion") != "1.0":
        raise MalformedEvent(f"ce-specversion must be 1.0, got {headers.get('ce-specversion')!r}")
    for name in ("ce-id", "ce-source", "ce-type"):
        if not headers.get(name):
            raise MalformedEvent(f"missing required attribute {name[3:]!r}")
    try:
        return FORMAT.read_data(body, headers.get("content-type"))
    except ValueError as exc:  # orjson.JSONDecodeError is one
        raise MalformedEvent(f"invalid CloudEvent data: {exc}") from exc


def parse_event(headers: Mapping[str, str], body: bytes) -> BaseCloudEvent:
    """The CloudEvent in an HTTP message; ``headers`` must look names up case-insensitively."""
    if is_structured(headers):
        decode = ce_http.from_structured
    elif is_binary(headers):
        decode = ce_http.from_binary
    else:
        raise MalformedEvent(
            "not a CloudEvent: no ce-specversion header and the Content-Type is not "
            f"{STRUCTURED_TYPE} (got {headers.get('content-type') or 'none'!r})"
        )
    message = ce_http.HTTPMessage(headers=_plain(headers), body=body)
    try:
        return decode(message, FORMAT, CloudEvent)
    # The SDK lets parsing errors escape as they arise: JSON and time syntax (ValueError),
    # a structured body that is not an object (AttributeError/TypeError), invalid
    # attributes (its own exceptions). All mean the same thing to a caller.
    except (ValueError, TypeError, AttributeError, BaseCloudEventException) as exc:
        raise MalformedEvent(f"invalid CloudEvent: {exc}") from exc


def problem(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    type: str = "about:blank",
    instance: str | None = None,
) -> dict[str, Any]:
    """An RFC 7807 problem object."""
    body: dict[str, Any] = {"type": type, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    return body


def unhandled_problem(exc: BaseException, task_reference: str | None) -> dict[str, Any]:
    """The 500 problem for an exception the author did not turn into a FunctionError."""
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return problem(
        500,
        "Unhandled exception in function",
        detail,
        type=PROBLEMS + "unhandled-exception",
        instance=task_reference,
    )


def _plain(headers: Mapping[str, str]) -> dict[str, str]:
    # The SDK wants a plain dict; a multi-dict keeps the last of repeated headers.
    return {key.lower(): value for key, value in headers.items()}
