"""The CloudEvents codec: HTTP binary, structured and batched modes, JSON storage, errors."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from flowapp.events.cloudevents import (
    data_bytes,
    event_key,
    from_http,
    from_json,
    new_event,
    to_binary,
    to_json,
    to_structured,
    validate_event,
)
from flowapp.events.errors import InvalidEvent, UnsupportedFormat

BINARY_HEADERS = {
    "ce-specversion": "1.0",
    "ce-id": "A234-1234-1234",
    "ce-source": "/mycontext",
    "ce-type": "com.example.someevent",
    "Content-Type": "application/json",
}
BASE: dict[str, Any] = {
    "specversion": "1.0",
    "id": "A234-1234-1234",
    "source": "/mycontext",
    "type": "com.example.someevent",
}


def test_binary_mode() -> None:
    headers = {**BINARY_HEADERS, "ce-time": "2018-04-05T17:31:00Z", "ce-traceparent": "00-ab"}
    (event,) = from_http(headers, b'{"n": 1}')
    assert event == {
        **BASE,
        "time": "2018-04-05T17:31:00Z",
        "traceparent": "00-ab",
        "datacontenttype": "application/json",
        "data": {"n": 1},
    }


def test_binary_mode_header_values_are_percent_decoded() -> None:
    headers = {**BINARY_HEADERS, "ce-subject": "caf%C3%A9 %22x%22"}
    (event,) = from_http(headers, b"")
    assert event["subject"] == 'café "x"'
    assert "data" not in event


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("text/plain", b"hello", {"data": "hello"}),
        ("application/json", b"[1, 2]", {"data": [1, 2]}),
        ("application/vnd.x+json", b"3", {"data": 3}),
        ("application/octet-stream", b"\xff\x00", {"data_base64": "/wA="}),
    ],
)
def test_binary_mode_data(content_type: str, body: bytes, expected: dict[str, Any]) -> None:
    (event,) = from_http({**BINARY_HEADERS, "content-type": content_type}, body)
    assert {k: v for k, v in event.items() if k.startswith("data_") or k == "data"} == expected


def test_structured_mode() -> None:
    body = orjson.dumps({**BASE, "data": {"n": 1}, "region": "eu"})
    headers = {"content-type": "application/cloudevents+json; charset=utf-8", "ce-id": "ignored"}
    (event,) = from_http(headers, body)
    assert event == {**BASE, "region": "eu", "data": {"n": 1}}


def test_batched_mode() -> None:
    body = orjson.dumps([{**BASE, "id": "1"}, {**BASE, "id": "2", "data_base64": "AAE="}])
    events = from_http({"content-type": "application/cloudevents-batch+json"}, body)
    assert [e["id"] for e in events] == ["1", "2"]
    assert events[1]["data_base64"] == "AAE="


@pytest.mark.parametrize("missing", ["id", "source", "type", "specversion"])
def test_missing_required_attribute_is_named_binary(missing: str) -> None:
    headers = {k: v for k, v in BINARY_HEADERS.items() if k != f"ce-{missing}"}
    with pytest.raises(InvalidEvent) as caught:
        from_http(headers, b"{}")
    assert caught.value.attribute == missing
    assert caught.value.pointer == f"/{missing}"
    assert f"`{missing}`" in caught.value.message
    assert caught.value.status == 400


@pytest.mark.parametrize("missing", ["id", "source", "type", "specversion"])
def test_missing_required_attribute_is_named_structured(missing: str) -> None:
    body = orjson.dumps({k: v for k, v in BASE.items() if k != missing})
    with pytest.raises(InvalidEvent) as caught:
        from_http({"content-type": "application/cloudevents+json"}, body)
    assert caught.value.attribute == missing


def test_all_missing_attributes_are_listed() -> None:
    with pytest.raises(InvalidEvent, match="missing required attributes `id`, `type`"):
        validate_event({"specversion": "1.0", "source": "/s"})


def test_batch_errors_point_into_the_batch() -> None:
    body = orjson.dumps([BASE, {k: v for k, v in BASE.items() if k != "source"}])
    with pytest.raises(InvalidEvent) as caught:
        from_http({"content-type": "application/cloudevents-batch+json"}, body)
    assert caught.value.pointer == "/1/source"


@pytest.mark.parametrize(
    ("event", "attribute", "message"),
    [
        ({**BASE, "id": ""}, "id", "must not be None or empty"),
        ({**BASE, "source": 5}, "source", "must be a"),
        ({**BASE, "specversion": "0.3"}, "specversion", "must be '1.0'"),
        ({**BASE, "time": "yesterday"}, "time", "RFC 3339"),
        ({**BASE, "time": "2018-04-05T17:31:00"}, "time", "timezone aware"),
        ({**BASE, "Region": "eu"}, "Region", "lowercase letters and numbers"),
        ({**BASE, "tags": ["a"]}, "tags", "string, integer or boolean"),
        ({**BASE, "subject": ""}, "subject", "must not be empty"),
    ],
)
def test_attribute_rules(event: dict[str, Any], attribute: str, message: str) -> None:
    with pytest.raises(InvalidEvent, match=message) as caught:
        validate_event(event)
    assert caught.value.attribute == attribute


@pytest.mark.parametrize(
    ("headers", "body", "error", "message"),
    [
        ({"content-type": "application/json"}, b"{}", InvalidEvent, "not a CloudEvent"),
        ({"content-type": "application/cloudevents+json"}, b"{nope", InvalidEvent, "valid JSON"),
        ({"content-type": "application/cloudevents+json"}, b"[]", InvalidEvent, "JSON object"),
        ({"content-type": "application/cloudevents-batch+json"}, b"{}", InvalidEvent, "array"),
        ({"content-type": "application/cloudevents+avro"}, b"x", UnsupportedFormat, "avro"),
    ],
)
def test_unreadable_requests(
    headers: dict[str, str], body: bytes, error: type[InvalidEvent], message: str
) -> None:
    with pytest.raises(error, match=message):
        from_http(headers, body)


def test_both_data_and_data_base64_are_refused() -> None:
    with pytest.raises(InvalidEvent, match="not both"):
        validate_event({**BASE, "data": 1, "data_base64": "AA=="})
    with pytest.raises(InvalidEvent, match="not base64"):
        validate_event({**BASE, "data_base64": "%%%"})


def test_validate_normalises_without_inventing_attributes() -> None:
    moment = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    given = {**BASE, "time": moment, "data": b"\x01", "subject": None}
    checked = validate_event(given)
    assert checked == {**BASE, "time": "2024-05-01T12:00:00Z", "data_base64": "AQ=="}
    assert given["time"] is moment  # the caller's dict is left alone
    assert "time" not in validate_event(BASE)  # unlike the SDK, no time is made up


def test_new_event() -> None:
    event = new_event(type="t", source="/s", data={"a": 1}, region="eu")
    assert event["specversion"] == "1.0" and event["region"] == "eu"
    assert event["time"].endswith("Z") and len(event["id"]) == 36
    assert event_key(event) == ("/s", event["id"])


def test_binary_round_trip_of_every_data_kind() -> None:
    cases: list[dict[str, Any]] = [
        {**BASE, "data": {"a": [1, True, None]}},
        {**BASE, "data": [1, True, None]},  # the SDK would write a Python repr here
        {**BASE, "data": "text", "datacontenttype": "text/plain"},
        {**BASE, "data": "json text"},
        {**BASE, "data_base64": base64.b64encode(b"\x00\xff").decode()},
        {**BASE, "urgent": True, "priority": 3, "subject": 'a b%"c'},
        dict(BASE),
    ]
    for event in cases:
        headers, body = to_binary(event)
        (back,) = from_http(headers, body)
        expected = {k: v for k, v in event.items() if k not in ("urgent", "priority")}
        if "urgent" in event:
            expected.update(urgent="true", priority="3")  # headers carry text
        if "data" in event and "datacontenttype" not in event:
            expected["datacontenttype"] = "application/json"
        assert back == expected, event


def test_binary_headers() -> None:
    headers, body = to_binary({**BASE, "subject": 'a b"c%', "urgent": True, "data": [1]})
    assert headers["ce-subject"] == "a%20b%22c%25"
    assert headers["ce-urgent"] == "true"
    assert headers["content-type"] == "application/json"
    assert body == b"[1]"


def test_structured_and_storage_round_trip() -> None:
    event = {**BASE, "data": {"n": 1}, "region": "eu"}
    headers, body = to_structured(event)
    assert headers == {"content-type": "application/cloudevents+json"}
    assert from_http(headers, body) == [event]
    assert from_json(to_json(event)) == event


def test_data_bytes_for_binary_mode() -> None:
    assert data_bytes(BASE) == (b"", None)
    assert data_bytes({**BASE, "data": "x", "datacontenttype": "text/csv"}) == (b"x", "text/csv")
    assert data_bytes({**BASE, "data": "x"}) == (b'"x"', "application/json")
