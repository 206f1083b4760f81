"""Turning an :class:`Incoming` message into a CloudEvent (a plain dict), for every kind.

``read: data`` (default): the body is the event's data. It becomes JSON when the declared
content type is JSON or absent and the body parses; otherwise a UTF-8 string
(``nonJson: text``, default) or ``data_base64`` (``nonJson: base64``, and always for
bytes that are not UTF-8). Message headers become extension attributes: lower-cased,
stripped to ``[a-z0-9]`` as CloudEvents requires; a name that would collide with a core
attribute is kept with an ``x`` prefix rather than overriding it.

``read: envelope``: the message already is a CloudEvent, in structured mode (a JSON
object with ``specversion``) or in binary mode (``ce-``/``ce_``/``cloudEvents:`` prefixed
headers, or unprefixed MQTT user properties); its attributes are kept as they are.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson

from flowapp.triggers.base import Event, Incoming, TriggerConfig
from flowapp.triggers.errors import EventMappingError

CORE_ATTRIBUTES = frozenset(
    {
        "id",
        "source",
        "specversion",
        "type",
        "datacontenttype",
        "dataschema",
        "subject",
        "time",
        "data",
        "data_base64",
    }
)
REQUIRED_ATTRIBUTES = ("id", "source", "type")
_BINARY_PREFIXES = ("ce-", "ce_", "cloudevents:", "cloudevents_", "")
_NOT_EXTENSIONS = frozenset({"contenttype", "contentlength"})


def to_cloudevent(incoming: Incoming, config: TriggerConfig) -> Event:
    """The CloudEvent for ``incoming`` under the trigger's ``read`` settings."""
    if config.read == "envelope":
        return from_envelope(incoming.body, incoming.headers)
    event: Event = {
        "specversion": "1.0",
        "id": incoming.id,
        "source": incoming.source,
        "type": config.type,
    }
    if incoming.subject:
        event["subject"] = incoming.subject
    if incoming.time is not None:
        event["time"] = rfc3339(incoming.time)
    for name, value in {**extensions(incoming.headers), **incoming.extensions}.items():
        event.setdefault(name, value)
    event.update(decode_body(incoming.body, incoming.content_type, non_json=config.non_json))
    return event


def decode_body(body: bytes, content_type: str | None, *, non_json: str) -> dict[str, Any]:
    """``data`` or ``data_base64`` plus ``datacontenttype`` for a message body."""
    if not body:
        return {"datacontenttype": content_type} if content_type else {}
    if content_type is None or is_json_type(content_type):
        try:
            return {"data": orjson.loads(body), "datacontenttype": "application/json"}
        except orjson.JSONDecodeError:
            content_type = None  # declared JSON but is not: do not claim it is
    if non_json == "text":
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return {"data": text, "datacontenttype": content_type or "text/plain; charset=utf-8"}
    encoded = base64.b64encode(body).decode("ascii")
    return {"data_base64": encoded, "datacontenttype": content_type or "application/octet-stream"}


def from_envelope(body: bytes, headers: Mapping[str, Any]) -> Event:
    """A CloudEvent carried in structured or binary mode; raises EventMappingError."""
    lowered = {k.lower(): v for k, v in headers.items()}
    for prefix in _BINARY_PREFIXES:
        if prefix + "specversion" in lowered:
            return _binary_envelope(body, lowered, prefix)
    try:
        event = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise EventMappingError("not a structured CloudEvent: the body is not JSON") from exc
    if not isinstance(event, dict):
        raise EventMappingError("not a structured CloudEvent: the body is not a JSON object")
    return check_envelope(event)


def check_envelope(event: Event) -> Event:
    if event.get("specversion") != "1.0":
        raise EventMappingError('not a CloudEvent: `specversion` must be "1.0"')
    for name in REQUIRED_ATTRIBUTES:
        if not isinstance(event.get(name), str) or not event[name]:
            raise EventMappingError(f"not a CloudEvent: missing attribute `{name}`")
    return event


def _binary_envelope(body: bytes, headers: Mapping[str, Any], prefix: str) -> Event:
    event: Event = {}
    for header, value in headers.items():
        name = attribute_name(header[len(prefix) :]) if header.startswith(prefix) else ""
        if name and name not in _NOT_EXTENSIONS:
            event[name] = extension_value(value)
    content_type = headers.get("content-type") or headers.get("content_type")
    event.update(decode_body(body, _text_value(content_type), non_json="text"))
    return check_envelope(event)


def extensions(headers: Mapping[str, Any]) -> dict[str, Any]:
    """Message headers as CloudEvents extension attributes (sanitized names)."""
    result: dict[str, Any] = {}
    for header, value in headers.items():
        name = attribute_name(header)
        if not name or name in _NOT_EXTENSIONS:
            continue
        if name in CORE_ATTRIBUTES:
            name = "x" + name
        result.setdefault(name, extension_value(value))
    return result


def attribute_name(header: str) -> str:
    """A header name as a CloudEvents attribute name: lower-case ASCII letters and digits."""
    return re.sub(r"[^a-z0-9]", "", header.lower())


def extension_value(value: Any) -> str | int | bool:
    """An extension value of a CloudEvents type: string, integer or boolean."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and -(2**31) <= value < 2**31:
        return value
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(value).decode("ascii")
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return rfc3339(value)
    return orjson.dumps(value, default=str).decode("utf-8")


def is_json_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json") or media == "text/json"


def digest_id(*parts: bytes | str) -> str:
    """A content digest id, for messages whose broker gives them no id of their own."""
    sha = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        sha.update(len(data).to_bytes(8, "big") + data)  # length-prefixed: no ambiguity
    return "sha256:" + sha.hexdigest()[:32]


def rfc3339(instant: datetime) -> str:
    """An RFC 3339 timestamp in UTC with a ``Z`` (naive datetimes are taken as UTC)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    text = instant.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def from_millis(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, tz=UTC)


def safe_url(url: str) -> str:
    """``url`` without user name and password, fit to appear in an event's ``source``."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


def _text_value(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
