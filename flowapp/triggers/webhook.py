"""The ``http`` (webhook) trigger's pure parts, for the API server to mount.

Keys: ``path`` (required, e.g. ``/hooks/orders``), ``mode`` (``async``, default: answer 202
once the execution exists; ``sync``: the server waits for the execution's output),
``methods`` (default ``[POST]``), ``idHeaders`` (headers that carry a delivery id, default
``Idempotency-Key``, ``X-Request-Id``, ``X-GitHub-Delivery``), ``secret`` (below), or
``public: true``: a webhook without a secret must say so, since anyone who can reach the
server can then start its workflow.

``secret: {type: token | hmac-sha256, header, prefix, value | env}``: ``token`` compares
the header (after ``prefix``) with the secret; ``hmac-sha256`` (default) expects
``<prefix><hex HMAC-SHA256 of the body>`` in the header (default
``X-Hub-Signature-256: sha256=...``, as GitHub sends it). Both compare in constant time.
The secret is given inline (``value``) or by environment variable name (``env``), which
the server resolves at the edge and passes in.

Requests become CloudEvents: binary mode (``ce-*`` headers) and structured mode
(``application/cloudevents+json``) keep their attributes; a plain request gets
``id`` = the first id header present, else a digest of method, path and body; ``source`` =
the path; other headers become extensions, except credentials and the signature.
``read: envelope`` refuses plain requests.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from flowapp.triggers.base import Event, Owner, TriggerConfig
from flowapp.triggers.errors import EventMappingError, WebhookError
from flowapp.triggers.events import (
    check_envelope,
    decode_body,
    digest_id,
    extensions,
    from_envelope,
)
from flowapp.triggers.fields import Fields

PATH = r"/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
ID_HEADERS = ("Idempotency-Key", "X-Request-Id", "X-GitHub-Delivery")
_DEFAULT_HEADERS = {"token": "X-Webhook-Token", "hmac-sha256": "X-Hub-Signature-256"}
_DEFAULT_PREFIXES = {"token": "", "hmac-sha256": "sha256="}
_PRIVATE = frozenset(
    {"authorization", "proxy-authorization", "cookie", "host", "content-length", "content-type"}
)


@dataclass(frozen=True, slots=True)
class WebhookSecret:
    scheme: str
    header: str
    prefix: str
    value: str | None = None
    env: str | None = None


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    path: str
    mode: str = "async"
    methods: tuple[str, ...] = ("POST",)
    id_headers: tuple[str, ...] = ID_HEADERS
    secret: WebhookSecret | None = None
    public: bool = False


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes = b""


def parse_http(body: Fields, dead_letter: Fields, owner: Owner) -> WebhookConfig:
    del dead_letter, owner  # webhooks answer the caller instead of dead-lettering
    methods = tuple(m.upper() for m in body.strings("methods", default=("POST",)))
    for method in methods:
        if method not in METHODS:
            body.problem("methods", f"`{method}` is not one of {', '.join(METHODS)}")
    secret = body.mapping("secret")
    public = body.boolean("public", default=False)
    if secret is None and not public and body.has("path"):
        body.problem(None, _NO_SECRET)
    if secret is not None and public:
        body.problem("public", "a webhook with a `secret` is not public: remove `public: true`")
    return WebhookConfig(
        path=body.required("path", pattern=PATH),
        mode=body.choice("mode", ("async", "sync"), default="async"),
        methods=methods,
        id_headers=body.strings("idHeaders", default=ID_HEADERS),
        secret=_parse_secret(secret) if secret is not None else None,
        public=public,
    )


_NO_SECRET = (
    "a webhook without a `secret` starts the workflow for anyone who can reach the server: "
    "give it a `secret` ({type: token | hmac-sha256, env: NAME}), or say `public: true` "
    "if that is what you want"
)


def _parse_secret(fields: Fields) -> WebhookSecret:
    scheme = fields.choice("type", tuple(_DEFAULT_HEADERS), default="hmac-sha256")
    if fields.has("value") == fields.has("env"):
        fields.problem(None, "give exactly one of `value` and `env`")
    value = fields.optional("value")
    env = fields.optional("env", pattern=r"[A-Za-z_][A-Za-z0-9_]*")
    secret = WebhookSecret(
        scheme=scheme,
        header=fields.string("header", default=_DEFAULT_HEADERS[scheme]),
        prefix=_prefix(fields, scheme),
        value=value,
        env=env,
    )
    fields.finish()
    return secret


def _prefix(fields: Fields, scheme: str) -> str:
    value = fields.raw("prefix")
    if value is None:
        return _DEFAULT_PREFIXES[scheme]
    if not isinstance(value, str):
        fields.problem("prefix", "`prefix` must be a string")
        return _DEFAULT_PREFIXES[scheme]
    return value


def resolve_secret(secret: WebhookSecret, environ: Mapping[str, str]) -> bytes:
    """The secret's bytes; ``environ`` is read by the caller (the edge), not here."""
    value = secret.value if secret.env is None else environ.get(secret.env)
    if not value:
        raise WebhookError(500, "Webhook Misconfigured", f"secret env `{secret.env}` is not set")
    return value.encode("utf-8")


def hmac_signature(key: bytes, body: bytes, prefix: str = "sha256=") -> str:
    """The header value a sender puts for ``body``: ``sha256=<hex>`` by default."""
    return prefix + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify_signature(secret: WebhookSecret, request: HttpRequest, *, key: bytes) -> None:
    """Raise ``WebhookError(401)`` unless the request carries a valid token or signature."""
    given = _header(request.headers, secret.header)
    if given is None or not given.startswith(secret.prefix):
        raise WebhookError(401, "Unauthorized", f"missing or malformed `{secret.header}` header")
    given = given[len(secret.prefix) :].strip()
    if secret.scheme == "token":
        valid = hmac.compare_digest(given.encode("utf-8"), key)
    else:
        expected = hmac.new(key, request.body, hashlib.sha256).hexdigest()
        valid = hmac.compare_digest(given.lower().encode("utf-8"), expected.encode("ascii"))
    if not valid:
        raise WebhookError(401, "Unauthorized", f"`{secret.header}` does not match")


def request_to_event(config: TriggerConfig, request: HttpRequest) -> Event:
    """The CloudEvent for an accepted request; raises WebhookError (4xx) otherwise."""
    hook: WebhookConfig = config.source
    if request.method.upper() not in hook.methods:
        raise WebhookError(405, "Method Not Allowed", f"{request.method} is not accepted here")
    if len(request.body) > config.max_bytes:
        raise WebhookError(413, "Content Too Large", f"body exceeds {config.max_bytes} bytes")
    headers = {k.lower(): v for k, v in request.headers.items()}
    media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    try:
        if media == BATCH:
            raise WebhookError(415, "Unsupported Media Type", "batched CloudEvents are refused")
        if media == STRUCTURED or "ce-specversion" in headers:
            return _cloudevent_request(request, headers, media)
        if config.read == "envelope":
            raise EventMappingError("this webhook accepts CloudEvents only")
    except EventMappingError as exc:
        raise WebhookError(400, "Bad Request", str(exc)) from exc
    return _plain_event(config, request, headers)


def _cloudevent_request(request: HttpRequest, headers: dict[str, str], media: str) -> Event:
    if media != STRUCTURED:
        return from_envelope(request.body, headers)
    try:
        event: Any = orjson.loads(request.body)
    except orjson.JSONDecodeError as exc:
        raise EventMappingError("the structured CloudEvent is not JSON") from exc
    if not isinstance(event, dict):
        raise EventMappingError("the structured CloudEvent is not a JSON object")
    return check_envelope(event)


def _plain_event(config: TriggerConfig, request: HttpRequest, headers: dict[str, str]) -> Event:
    hook: WebhookConfig = config.source
    delivery = next((headers[h.lower()] for h in hook.id_headers if headers.get(h.lower())), None)
    private = _PRIVATE | {hook.secret.header.lower()} if hook.secret else _PRIVATE
    event: Event = {
        "specversion": "1.0",
        "id": delivery or digest_id(request.method.upper(), request.path, request.body),
        "source": hook.path,
        "type": config.type,
    }
    kept = {k: v for k, v in headers.items() if k not in private and not k.startswith("ce-")}
    for name, value in extensions(kept).items():
        event.setdefault(name, value)
    content_type = headers.get("content-type")
    event.update(decode_body(request.body, content_type, non_json=config.non_json))
    return event


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)
