"""The wire format and reply mapping: what any function may answer, and what it means."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from multidict import CIMultiDict

from flowapp.dsl import errors as workflow_errors
from flowapp.functions import wire
from flowapp.functions.client import decode_reply, encode_call
from flowapp.functions.errors import (
    FunctionReplyError,
    FunctionTimeout,
    FunctionUnavailable,
    MalformedReply,
)
from flowapp.functions.port import FunctionCall


def headers(**values: str) -> CIMultiDict[str]:
    return CIMultiDict({k.replace("_", "-"): v for k, v in values.items()})


def call(data: Any = None) -> tuple[dict[str, str], bytes]:
    return encode_call(
        FunctionCall(
            function="append",
            data=data,
            execution_id="e 1",
            task_reference="/do/0/append",
            attempt=2,
            idempotency_key="e1/do/0/append/2",
        ),
        app="shop",
    )


def test_a_call_is_a_binary_cloudevent_with_the_engine_extensions() -> None:
    sent_headers, body = call({"text": "hi"})

    assert sent_headers["ce-id"] == "e1/do/0/append/2"
    assert sent_headers["ce-source"] == "/flowapp/shop/append"
    assert sent_headers["ce-type"] == "dev.flowapp.function.invoked"
    assert sent_headers["ce-flowappexecution"] == "e%201"  # percent-encoded per the binding
    assert sent_headers["content-type"] == "application/json"
    assert orjson.loads(body) == {"text": "hi"}

    event = wire.parse_event(CIMultiDict(sent_headers), body)
    assert event.get_attributes()["flowappexecution"] == "e 1"
    assert event.get_data() == {"text": "hi"}


@pytest.mark.parametrize("data", [None, [1, 2], "text", 3.5, True, {"nested": [None]}])
def test_the_fast_binary_codec_agrees_with_the_sdk(data: Any) -> None:
    attributes = {"id": "k 1", "source": "/s", "type": "t", "flowappattempt": 2}
    fast_headers, fast_body = wire.binary_message(attributes, data)
    event = wire.parse_event(CIMultiDict(fast_headers), fast_body)  # the SDK reads ours
    assert event.get_data() == data
    assert event.get_attributes()["id"] == "k 1"

    sdk_headers, sdk_body = wire.encode_event(
        wire.make_event({**attributes, "datacontenttype": "application/json"}, data)
    )
    assert wire.binary_data(CIMultiDict(sdk_headers), sdk_body) == data  # we read the SDK's
    assert {k: v for k, v in sdk_headers.items() if k != "ce-time"} == fast_headers


@pytest.mark.parametrize("missing", ["ce-specversion", "ce-id", "ce-source", "ce-type"])
def test_the_fast_binary_reader_checks_required_attributes(missing: str) -> None:
    message_headers, body = wire.binary_message({"id": "1", "source": "/s", "type": "t"}, 1)
    del message_headers[missing]

    with pytest.raises(wire.MalformedEvent):
        wire.binary_data(CIMultiDict(message_headers), body)


@pytest.mark.parametrize("data", [None, [1, 2], "text", 3.5, True, {"nested": [None]}])
def test_any_json_value_round_trips_in_both_modes(data: Any) -> None:
    event = wire.make_event(
        {"source": "/s", "type": "t", "datacontenttype": "application/json"}, data
    )
    for structured in (False, True):
        sent_headers, body = wire.encode_event(event, structured=structured)
        assert wire.parse_event(CIMultiDict(sent_headers), body).get_data() == data


@pytest.mark.parametrize(
    ("message_headers", "body"),
    [
        (headers(content_type="application/json"), b"{}"),
        (headers(ce_specversion="1.0", ce_id="1", ce_source="/s"), b"{}"),
        (headers(ce_specversion="1.0", ce_id="1", ce_source="/s", ce_type="t"), b"{oops"),
        (headers(content_type="application/cloudevents+json"), b"[1]"),
        (headers(content_type="application/cloudevents+json"), b'{"specversion": "0.9"}'),
    ],
)
def test_malformed_events_are_refused(message_headers: CIMultiDict[str], body: bytes) -> None:
    with pytest.raises(wire.MalformedEvent):
        wire.parse_event(message_headers, body)


def binary_reply(data: bytes) -> tuple[CIMultiDict[str], bytes]:
    reply = headers(ce_specversion="1.0", ce_id="r", ce_source="/s", ce_type=wire.REPLIED)
    reply["Content-Type"] = "application/json"
    return reply, data


def test_binary_reply_data_is_the_output() -> None:
    assert decode_reply("f", 200, *binary_reply(b'{"ok": true}')) == {"ok": True}


def test_structured_reply_data_is_the_output() -> None:
    body = orjson.dumps({"specversion": "1.0", "id": "r", "source": "/s", "type": "t", "data": [1]})
    assert decode_reply("f", 200, headers(content_type="application/cloudevents+json"), body) == [1]


@pytest.mark.parametrize(
    ("status", "content_type", "body", "output"),
    [
        (200, "application/json", b'{"plain": 1}', {"plain": 1}),
        (201, "", b"[1, 2]", [1, 2]),
        (204, "", b"", None),
        (200, "application/json", b"", None),
    ],
)
def test_plain_replies(status: int, content_type: str, body: bytes, output: Any) -> None:
    assert decode_reply("f", status, headers(content_type=content_type), body) == output


def test_a_reply_that_is_not_json_is_malformed() -> None:
    with pytest.raises(MalformedReply, match=r"'f'.*neither a CloudEvent nor JSON"):
        decode_reply("f", 200, headers(content_type="text/plain"), b"hello")


def test_a_broken_cloudevent_reply_is_malformed() -> None:
    with pytest.raises(MalformedReply, match="malformed CloudEvent"):
        decode_reply("f", 200, headers(ce_specversion="1.0"), b"{}")


def test_non_2xx_with_a_problem_body() -> None:
    problem = {"type": "about:blank", "title": "Missing text", "status": 422, "detail": "no"}

    with pytest.raises(FunctionReplyError) as caught:
        decode_reply("append", 422, headers(content_type=wire.PROBLEM_TYPE), orjson.dumps(problem))

    assert caught.value.status == 422
    assert caught.value.problem == problem
    assert str(caught.value) == "function 'append': replied 422 Missing text: no"
    assert caught.value.metric_code == "4xx"
    assert not caught.value.retryable


def test_non_2xx_without_a_problem_body_gets_one() -> None:
    with pytest.raises(FunctionReplyError) as caught:
        decode_reply("f", 503, headers(content_type="text/html"), b"<h1>down</h1>")

    assert caught.value.problem == {
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "'<h1>down</h1>'",
    }
    assert caught.value.retryable


def test_reply_errors_become_communication_errors_with_the_status() -> None:
    error = FunctionReplyError("append", 422, {"title": "Missing text", "detail": "no text"})

    problem = error.to_problem(instance="/do/0/append")

    assert workflow_errors.standard_kind(problem["type"]) == workflow_errors.COMMUNICATION
    assert problem["status"] == 422
    assert problem["instance"] == "/do/0/append"
    assert "no text" in problem["detail"]


@pytest.mark.parametrize(
    ("error", "kind", "status", "code"),
    [
        (FunctionTimeout("f", 2.0), workflow_errors.TIMEOUT, 408, "timeout"),
        (FunctionUnavailable("f", "crashed"), workflow_errors.COMMUNICATION, 503, "unavailable"),
        (MalformedReply("f", "not json"), workflow_errors.COMMUNICATION, 502, "malformed"),
    ],
)
def test_transport_failures_map_to_standard_errors(
    error: Any, kind: str, status: int, code: str
) -> None:
    problem = error.to_problem()

    assert workflow_errors.standard_kind(problem["type"]) == kind
    assert problem["status"] == status
    assert error.metric_code == code
    assert "'f'" in str(error)
