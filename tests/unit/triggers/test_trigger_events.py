"""The common message -> CloudEvent mapping: data decoding, headers, envelopes, ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from flowapp.triggers import EventMappingError, Incoming, TriggerConfig
from flowapp.triggers.events import (
    attribute_name,
    decode_body,
    digest_id,
    extension_value,
    from_envelope,
    rfc3339,
    safe_url,
    to_cloudevent,
)


def config(**overrides: object) -> TriggerConfig:
    return TriggerConfig(name="orders", kind="nats", source=None, **overrides)  # type: ignore[arg-type]


def incoming(body: bytes, **overrides: object) -> Incoming:
    fields: dict[str, object] = {
        "id": "ORDERS:7",
        "source": "nats://127.0.0.1:4222/orders.created",
        "subject": "orders.created",
        "body": body,
    }
    fields.update(overrides)
    return Incoming(**fields)  # type: ignore[arg-type]


def test_a_json_message_becomes_a_json_event() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    event = to_cloudevent(incoming(b'{"total": 3}', time=when), config())
    assert event == {
        "specversion": "1.0",
        "id": "ORDERS:7",
        "source": "nats://127.0.0.1:4222/orders.created",
        "type": "dev.flowapp.trigger.nats",
        "subject": "orders.created",
        "time": "2026-01-02T03:04:05Z",
        "datacontenttype": "application/json",
        "data": {"total": 3},
    }


def test_a_configured_type_replaces_the_default() -> None:
    assert to_cloudevent(incoming(b"1"), config(event_type="com.acme.x"))["type"] == "com.acme.x"


def test_text_and_binary_payloads() -> None:
    assert decode_body(b"hello", None, non_json="text") == {
        "data": "hello",
        "datacontenttype": "text/plain; charset=utf-8",
    }
    assert decode_body(b"hello", None, non_json="base64") == {
        "data_base64": "aGVsbG8=",
        "datacontenttype": "application/octet-stream",
    }
    # Not UTF-8: base64 whatever nonJson says.
    assert decode_body(b"\xff\xfe", None, non_json="text")["data_base64"] == "//4="


def test_a_declared_content_type_is_respected() -> None:
    assert decode_body(b"123", "text/plain", non_json="text") == {
        "data": "123",
        "datacontenttype": "text/plain",
    }
    assert decode_body(b'{"a":1}', "application/vnd.x+json", non_json="text")["data"] == {"a": 1}
    # Declared JSON but is not: not claimed to be JSON.
    assert decode_body(b"oops", "application/json", non_json="text") == {
        "data": "oops",
        "datacontenttype": "text/plain; charset=utf-8",
    }


def test_an_empty_body_has_no_data() -> None:
    assert decode_body(b"", None, non_json="text") == {}


def test_headers_become_sanitized_extensions_without_overriding_core_attributes() -> None:
    headers = {"X-Trace-Id": "t1", "type": "evil", "Content-Type": "text/plain", "N": 3}
    event = to_cloudevent(incoming(b"x", headers=headers), config())
    assert event["xtraceid"] == "t1"
    assert event["type"] == "dev.flowapp.trigger.nats"
    assert event["xtype"] == "evil"
    assert event["n"] == 3
    assert "contenttype" not in event


@pytest.mark.parametrize(
    ("header", "name"),
    [("Nats-Msg-Id", "natsmsgid"), ("x_b3.trace", "xb3trace"), ("ÄÖ", ""), ("ce-Time", "cetime")],
)
def test_attribute_names(header: str, name: str) -> None:
    assert attribute_name(header) == name


def test_extension_values_are_cloudevents_types() -> None:
    assert extension_value(b"abc") == "abc"
    assert extension_value(b"\xff") == "/w=="
    assert extension_value(True) is True
    assert extension_value(2**40) == "1099511627776"
    assert extension_value({"a": [1]}) == '{"a":[1]}'


def test_a_structured_envelope_keeps_its_attributes() -> None:
    envelope = {
        "specversion": "1.0",
        "id": "abc",
        "source": "/shop",
        "type": "order.created",
        "data": {"n": 1},
        "traceparent": "00-1",
    }
    event = to_cloudevent(incoming(orjson.dumps(envelope)), config(read="envelope"))
    assert event == envelope


def test_a_binary_mode_envelope_from_kafka_style_headers() -> None:
    headers = {
        "ce_specversion": b"1.0",
        "ce_id": b"e-1",
        "ce_source": b"/shop",
        "ce_type": b"order.created",
        "content-type": b"application/json",
    }
    event = from_envelope(b'{"n": 1}', headers)
    assert event == {
        "specversion": "1.0",
        "id": "e-1",
        "source": "/shop",
        "type": "order.created",
        "data": {"n": 1},
        "datacontenttype": "application/json",
    }


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "the body is not JSON"),
        (b"[1]", "the body is not a JSON object"),
        (b'{"specversion": "0.3", "id": "a", "source": "s", "type": "t"}', "specversion"),
        (b'{"specversion": "1.0", "id": "a", "type": "t"}', "missing attribute `source`"),
    ],
)
def test_a_bad_envelope_is_a_mapping_error(body: bytes, reason: str) -> None:
    with pytest.raises(EventMappingError, match=reason):
        to_cloudevent(incoming(body), config(read="envelope"))


def test_digest_ids_are_stable_and_unambiguous() -> None:
    assert digest_id(b"ab", b"c") == digest_id(b"ab", b"c")
    assert digest_id(b"ab", b"c") != digest_id(b"a", b"bc")
    assert digest_id("x").startswith("sha256:") and len(digest_id("x")) == 39


def test_rfc3339_is_utc_with_z() -> None:
    plus8 = timezone(timedelta(hours=8))
    assert rfc3339(datetime(2026, 1, 1, 2, 0, tzinfo=plus8)) == "2025-12-31T18:00:00Z"
    assert rfc3339(datetime(2026, 1, 1)) == "2026-01-01T00:00:00Z"


def test_safe_url_drops_credentials() -> None:
    assert safe_url("amqp://guest:secret@127.0.0.1:5672/") == "amqp://127.0.0.1:5672"
    assert safe_url("redis://:pw@localhost:6379/0") == "redis://localhost:6379/0"
    assert safe_url("nats://[::1]:4222") == "nats://[::1]:4222"
