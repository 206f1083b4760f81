"""CloudEvents codec: HTTP (binary, structured, batched) and JSON bytes, over the CloudEvents SDK.

Representation: an event is a plain ``dict`` in the CloudEvents JSON format, attributes at
the top level and the payload under ``data`` (any JSON value, or text) or ``data_base64``
(binary payloads). One representation serves the whole bus because:

- it is what the workflow engine already handles (``emit`` builds one, ``listen`` and
  ``$event`` read one), and what filters read: ``event["type"]``;
- storage is ``orjson.dumps(event)`` with nothing to convert, on SQLite and JetStream alike;
- the SDK's ``CloudEvent`` (2.2.0) would cost a conversion at every boundary and has traps
  for a bus: its constructor writes a fresh ``time`` (and ``id``) into the caller's dict,
  and its binary writer turns non-object JSON data and booleans into Python ``repr``.

So the SDK does what it does well: its v1 ``CloudEvent`` validates attributes by the
spec's rules, its JSON format decodes binary-mode bodies, and its HTTP binding writes
binary-mode headers (percent-encoding per the HTTP binding). Required attributes are
checked here first, because the SDK would silently invent a missing ``id``.

Data flow: HTTP request -> ``from_http`` -> Event -> broker -> ``to_json`` (storage) ->
``from_json`` -> ``to_binary`` -> subscriber.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import unquote

import orjson
from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings import http as ce_http
from cloudevents.core.exceptions import CloudEventValidationError
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from flowapp.events.errors import InvalidEvent, UnsupportedFormat

Event = dict[str, Any]

REQUIRED_ATTRIBUTES = ("id", "source", "type", "specversion")
STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
_PAYLOAD_KEYS = frozenset({"data", "data_base64"})
_FORMAT = JSONFormat()


# --- building and checking ------------------------------------------------------------


def new_event(
    *, type: str, source: str, data: Any = None, id: str | None = None, **extensions: Any
) -> Event:
    """A valid event; ``id`` defaults to a UUID and ``time`` to now (read here, at the edge)."""
    event: Event = {"specversion": "1.0", "id": id or str(uuid.uuid4()), "source": source}
    event["type"] = type
    event["time"] = datetime.now(UTC)
    event.update(extensions)
    if data is not None:
        event["data"] = data
    return validate_event(event)


def event_key(event: Mapping[str, Any]) -> tuple[str, str]:
    """The identity of an event: CloudEvents says ``source`` + ``id`` is unique."""
    return str(event["source"]), str(event["id"])


def attribute_text(value: Any) -> str:
    """An attribute in its canonical string form (the form headers and filters compare)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return _rfc3339(value)
    return str(value)


def validate_event(event: Mapping[str, Any], *, pointer: str = "") -> Event:
    """A checked, normalised copy: ``time`` as RFC 3339 text, bytes data as ``data_base64``."""
    if not isinstance(event, Mapping):
        raise InvalidEvent("a CloudEvent must be a JSON object", pointer=pointer or "/")
    attributes = {k: v for k, v in event.items() if k not in _PAYLOAD_KEYS and v is not None}
    _check_required(attributes, pointer)
    _check_types(attributes, pointer)
    _check_with_sdk(attributes, pointer)
    normal: Event = {k: _normal_value(v) for k, v in attributes.items()}
    normal.update(_payload(event, pointer))
    return normal


def _check_required(attributes: Mapping[str, Any], pointer: str) -> None:
    missing = [name for name in REQUIRED_ATTRIBUTES if name not in attributes]
    if missing:
        names = ", ".join(f"`{name}`" for name in missing)
        plural = "s" if len(missing) > 1 else ""
        raise InvalidEvent(
            f"missing required attribute{plural} {names}",
            attribute=missing[0],
            pointer=f"{pointer}/{missing[0]}",
        )


def _check_types(attributes: Mapping[str, Any], pointer: str) -> None:
    for name, value in attributes.items():
        if not isinstance(value, (str, int, bool, datetime)):
            raise InvalidEvent(
                f"attribute `{name}` must be a string, integer or boolean",
                attribute=name,
                pointer=f"{pointer}/{name}",
            )


def _check_with_sdk(attributes: Mapping[str, Any], pointer: str) -> None:
    """Let the SDK apply the spec's attribute rules; report the first attribute it rejects."""
    checked = dict(attributes)  # the SDK writes into the dict it is given
    if isinstance(checked.get("time"), str):
        checked["time"] = _parse_time(checked["time"], pointer)
    try:
        CloudEvent(checked, None)
    except CloudEventValidationError as exc:
        name, errors = next(iter(exc.errors.items()))
        detail = "; ".join(str(error) for error in errors)
        raise InvalidEvent(
            f"attribute `{name}`: {detail}", attribute=name, pointer=f"{pointer}/{name}"
        ) from None


def _parse_time(text: str, pointer: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidEvent(
            f"attribute `time`: `{text}` is not an RFC 3339 timestamp",
            attribute="time",
            pointer=f"{pointer}/time",
        ) from None


def _normal_value(value: Any) -> Any:
    return _rfc3339(value) if isinstance(value, datetime) else value


def _rfc3339(value: datetime) -> str:
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _payload(event: Mapping[str, Any], pointer: str) -> Event:
    data, encoded = event.get("data"), event.get("data_base64")
    if data is not None and encoded is not None:
        raise InvalidEvent("an event has `data` or `data_base64`, not both", pointer=pointer)
    if isinstance(data, (bytes, bytearray)):
        return {"data_base64": base64.b64encode(data).decode("ascii")}
    if encoded is not None:
        _check_base64(encoded, pointer)
        return {"data_base64": encoded}
    return {} if data is None else {"data": data}


def _check_base64(encoded: Any, pointer: str) -> None:
    try:
        base64.b64decode(encoded, validate=True)
    except (TypeError, ValueError):
        raise InvalidEvent(
            "`data_base64` is not base64", pointer=f"{pointer}/data_base64"
        ) from None


# --- HTTP ----------------------------------------------------------------------------


def from_http(headers: Mapping[str, str], body: bytes) -> list[Event]:
    """Events in an HTTP request or response, in any content mode (a batch gives several).

    The mode follows the HTTP binding: a ``application/cloudevents...`` content type is
    structured (or batched); otherwise ``ce-`` headers make it binary.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    content_type = lowered.get("content-type", "")
    media = content_type.split(";")[0].strip().lower()
    if media == BATCH:
        return _from_batch(body)
    if media.startswith("application/cloudevents"):
        if media != STRUCTURED:
            raise UnsupportedFormat(f"event format `{media}` is not supported; use {STRUCTURED}")
        return [validate_event(_json_object(body))]
    if any(name.startswith("ce-") for name in lowered):
        return [_from_binary(lowered, body, content_type)]
    raise InvalidEvent(
        "not a CloudEvent: expected `ce-` headers (binary mode) or a "
        f"`{STRUCTURED}` body (structured mode)"
    )


def _from_binary(lowered: Mapping[str, str], body: bytes, content_type: str) -> Event:
    attributes: Event = {n[3:]: unquote(v) for n, v in lowered.items() if n.startswith("ce-")}
    if content_type:
        attributes["datacontenttype"] = content_type
    data = _FORMAT.read_data(body, content_type or None)
    return validate_event({**attributes, "data": data})


def _from_batch(body: bytes) -> list[Event]:
    items = _json(body)
    if not isinstance(items, list):
        raise InvalidEvent("a batch must be a JSON array of events", pointer="/")
    return [validate_event(item, pointer=f"/{index}") for index, item in enumerate(items)]


def _json_object(body: bytes) -> Event:
    value = _json(body)
    if not isinstance(value, dict):
        raise InvalidEvent("a structured-mode event must be a JSON object", pointer="/")
    return value


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidEvent(f"body is not valid JSON: {exc}", pointer="/") from None


@dataclass(frozen=True, slots=True)
class _Wire:
    """Just enough of the SDK's event protocol for its HTTP writer: no checks, no defaults."""

    attributes: dict[str, Any]
    body: bytes

    def get_attributes(self) -> dict[str, Any]:
        return self.attributes

    def get_data(self) -> bytes:
        return self.body


def to_binary(event: Mapping[str, Any]) -> tuple[dict[str, str], bytes]:
    """Headers and body of a binary-mode HTTP message (attributes as ``ce-`` headers)."""
    body, content_type = data_bytes(event)
    attributes = {k: attribute_text(v) for k, v in event.items() if k not in _PAYLOAD_KEYS}
    if content_type:
        attributes["datacontenttype"] = content_type
    message = ce_http.to_binary(cast(BaseCloudEvent, _Wire(attributes, body)), _FORMAT)
    return dict(message.headers), message.body


def to_structured(event: Mapping[str, Any]) -> tuple[dict[str, str], bytes]:
    """Headers and body of a structured-mode HTTP message."""
    return {"content-type": STRUCTURED}, to_json(event)


def data_bytes(event: Mapping[str, Any]) -> tuple[bytes, str | None]:
    """The payload as bytes and its media type, as binary mode carries them."""
    content_type = event.get("datacontenttype")
    if "data_base64" in event:
        return base64.b64decode(event["data_base64"]), content_type
    if "data" not in event:
        return b"", content_type
    data = event["data"]
    if isinstance(data, str) and content_type and not _is_json_media(content_type):
        return data.encode(), content_type
    return orjson.dumps(data), content_type or "application/json"


def _is_json_media(content_type: str) -> bool:
    return bool(_FORMAT.JSON_CONTENT_TYPE_PATTERN.match(content_type))


# --- storage -------------------------------------------------------------------------


def to_json(event: Mapping[str, Any]) -> bytes:
    """The event as JSON bytes (the CloudEvents JSON format), for storage and structured mode."""
    return orjson.dumps(event)


def from_json(raw: bytes) -> Event:
    """An event stored by ``to_json``; it was validated before it was stored."""
    value = orjson.loads(raw)
    if not isinstance(value, dict):
        raise InvalidEvent("stored event is not a JSON object")
    return value
