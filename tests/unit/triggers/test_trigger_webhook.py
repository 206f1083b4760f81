"""Webhook config, signature checks (token and HMAC-SHA256) and request -> CloudEvent."""

from __future__ import annotations

import orjson
import pytest

from flowapp.triggers import HttpRequest, TriggerConfig, WebhookError, build_trigger, parse_trigger
from flowapp.triggers.testing import RecordingSink
from flowapp.triggers.webhook import (
    WebhookSecret,
    hmac_signature,
    request_to_event,
    resolve_secret,
    verify_signature,
)

KEY = b"s3cret"
HMAC = WebhookSecret(scheme="hmac-sha256", header="X-Hub-Signature-256", prefix="sha256=")
TOKEN = WebhookSecret(scheme="token", header="X-Webhook-Token", prefix="")


def hook(**http: object) -> TriggerConfig:
    public = {} if "secret" in http else {"public": True}
    item = {"name": "orders", "http": {"path": "/hooks/orders", **public, **http}}
    parsed = parse_trigger(item)
    assert isinstance(parsed, TriggerConfig), parsed
    return parsed


def post(body: bytes = b'{"n": 1}', **headers: str) -> HttpRequest:
    base = {"Content-Type": "application/json"}
    return HttpRequest("POST", "/hooks/orders", {**base, **headers}, body)


def test_hmac_signature_accepts_the_right_one() -> None:
    body = b'{"n": 1}'
    verify_signature(
        HMAC, post(body, **{"X-Hub-Signature-256": hmac_signature(KEY, body)}), key=KEY
    )
    upper = "sha256=" + hmac_signature(KEY, body)[7:].upper()
    verify_signature(HMAC, post(body, **{"x-hub-signature-256": upper}), key=KEY)


@pytest.mark.parametrize(
    "header",
    [None, "sha256=00", "md5=abc", hmac_signature(b"other", b'{"n": 1}')],
)
def test_hmac_signature_refuses_anything_else(header: str | None) -> None:
    headers = {} if header is None else {"X-Hub-Signature-256": header}
    with pytest.raises(WebhookError) as caught:
        verify_signature(HMAC, post(**headers), key=KEY)
    assert caught.value.status == 401


def test_hmac_covers_the_body() -> None:
    signature = hmac_signature(KEY, b'{"n": 1}')
    with pytest.raises(WebhookError):
        verify_signature(HMAC, post(b'{"n": 2}', **{"X-Hub-Signature-256": signature}), key=KEY)


def test_shared_token() -> None:
    verify_signature(TOKEN, post(**{"X-Webhook-Token": "s3cret"}), key=KEY)
    with pytest.raises(WebhookError):
        verify_signature(TOKEN, post(**{"X-Webhook-Token": "s3cre"}), key=KEY)


def test_secret_config_and_resolution() -> None:
    config = hook(secret={"type": "token", "env": "HOOK_SECRET", "prefix": "Bearer "})
    secret = config.source.secret
    assert (secret.header, secret.prefix, secret.env) == (
        "X-Webhook-Token",
        "Bearer ",
        "HOOK_SECRET",
    )
    assert resolve_secret(secret, {"HOOK_SECRET": "abc"}) == b"abc"
    with pytest.raises(WebhookError) as caught:
        resolve_secret(secret, {})
    assert caught.value.status == 500


def test_secret_needs_exactly_one_source() -> None:
    both = parse_trigger(
        {"name": "n", "http": {"path": "/h", "secret": {"value": "a", "env": "B"}}}
    )
    assert isinstance(both, list)
    assert [(p.pointer, p.message) for p in both] == [
        ("/http/secret", "give exactly one of `value` and `env`")
    ]


def test_a_plain_request_becomes_an_event() -> None:
    request = post(**{"X-GitHub-Delivery": "d-1", "Authorization": "Bearer x", "X-Trace": "t"})
    event = request_to_event(hook(), request)
    assert event == {
        "specversion": "1.0",
        "id": "d-1",
        "source": "/hooks/orders",
        "type": "dev.flowapp.trigger.http",
        "xgithubdelivery": "d-1",
        "xtrace": "t",
        "datacontenttype": "application/json",
        "data": {"n": 1},
    }


def test_a_plain_request_without_an_id_header_gets_a_digest() -> None:
    first = request_to_event(hook(), post())
    assert first["id"] == request_to_event(hook(), post())["id"]
    assert first["id"] != request_to_event(hook(), post(b'{"n": 2}'))["id"]


def test_the_signature_header_is_not_kept() -> None:
    config = hook(secret={"value": "s3cret"})
    event = request_to_event(config, post(**{"X-Hub-Signature-256": "sha256=ab"}))
    assert "xhubsignature256" not in event


def test_binary_mode_keeps_attributes() -> None:
    request = post(
        **{
            "ce-specversion": "1.0",
            "ce-id": "e-1",
            "ce-source": "/shop",
            "ce-type": "order.created",
            "ce-traceparent": "00-1",
        }
    )
    event = request_to_event(hook(), request)
    assert event == {
        "specversion": "1.0",
        "id": "e-1",
        "source": "/shop",
        "type": "order.created",
        "traceparent": "00-1",
        "datacontenttype": "application/json",
        "data": {"n": 1},
    }


def test_structured_mode_keeps_attributes() -> None:
    envelope = {"specversion": "1.0", "id": "e-2", "source": "/shop", "type": "t", "data": [1]}
    request = HttpRequest(
        "POST",
        "/hooks/orders",
        {"Content-Type": "application/cloudevents+json; charset=utf-8"},
        orjson.dumps(envelope),
    )
    assert request_to_event(hook(), request) == envelope


@pytest.mark.parametrize(
    ("request_", "status"),
    [
        (HttpRequest("GET", "/hooks/orders", {}, b""), 405),
        (post(b"x" * 2_000_000), 413),
        (HttpRequest("POST", "/h", {"Content-Type": "application/cloudevents-batch+json"}), 415),
        (HttpRequest("POST", "/h", {"Content-Type": "application/cloudevents+json"}, b"{}"), 400),
    ],
)
def test_refused_requests(request_: HttpRequest, status: int) -> None:
    with pytest.raises(WebhookError) as caught:
        request_to_event(hook(), request_)
    assert caught.value.status == status
    assert caught.value.problem()["status"] == status


def test_envelope_mode_refuses_plain_requests() -> None:
    item = {"name": "n", "http": {"path": "/h", "public": True}, "read": "envelope"}
    config = parse_trigger(item)
    assert isinstance(config, TriggerConfig)
    with pytest.raises(WebhookError, match="CloudEvents only"):
        request_to_event(config, post())


def test_webhook_config_problems() -> None:
    found = parse_trigger(
        {
            "name": "n",
            "http": {"path": "hooks", "mode": "later", "methods": ["FETCH"], "public": True},
        }
    )
    assert isinstance(found, list)
    assert sorted(p.pointer for p in found) == ["/http/methods", "/http/mode", "/http/path"]


def test_a_webhook_without_a_secret_must_say_it_is_public() -> None:
    found = parse_trigger({"name": "n", "http": {"path": "/hooks/n"}})
    assert isinstance(found, list)
    [problem] = found
    assert problem.pointer == "/http" and "`public: true`" in problem.message
    config = parse_trigger({"name": "n", "http": {"path": "/hooks/n", "public": True}})
    assert isinstance(config, TriggerConfig) and config.source.public


def test_a_webhook_with_a_secret_is_not_public() -> None:
    secret = {"type": "token", "env": "HOOK"}
    found = parse_trigger({"name": "n", "http": {"path": "/h", "secret": secret, "public": True}})
    assert isinstance(found, list)
    assert [p.pointer for p in found] == ["/http/public"]


async def test_the_webhook_trigger_verifies_and_delivers() -> None:
    trigger = build_trigger(
        {"name": "orders", "http": {"path": "/hooks/orders", "secret": {"env": "HOOK"}}},
        environ={"HOOK": "s3cret"},
    )
    sink = RecordingSink()
    request = post(**{"X-Hub-Signature-256": hmac_signature(KEY, b'{"n": 1}')})
    with pytest.raises(WebhookError) as stopped:
        await trigger.handle(request)  # type: ignore[attr-defined]
    assert stopped.value.status == 503
    await trigger.start(sink)
    assert trigger.status().ready
    event = await trigger.handle(request)  # type: ignore[attr-defined]
    assert sink.events == [event]
    with pytest.raises(WebhookError):
        await trigger.handle(post())  # type: ignore[attr-defined]
    await trigger.stop()
    assert not trigger.status().ready
