"""``call: http`` with the authentications the runtime negotiates (digest, oauth2, oidc),
against an authority and resources served over real HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import pytest
from aiohttp import web

from flowapp.dsl.source import parse_text
from flowapp.dsl.validate import ensure_valid
from flowapp.engine.scope import Environment
from flowapp.runtime.embedded import run_to_completion
from flowapp.runtime.registry import WorkflowRegistry
from flowapp.store.memory import MemoryStore

REALM = "flowapp-tests"


@dataclass
class Authority:
    """An OAuth2 / OpenID Connect authority and a resource that wants its tokens."""

    base: str = ""
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    valid: set[str] = field(default_factory=set)
    nonces: set[str] = field(default_factory=set)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/realm/oauth2/token", self.token)
        app.router.add_post("/connect/token", self.token)
        app.router.add_get("/realm/.well-known/openid-configuration", self.discovery)
        app.router.add_get("/resource", self.resource)
        app.router.add_get("/digest/{name}", self.digest)
        app.router.add_post("/revoke", self.revoke)
        return app

    async def revoke(self, request: web.Request) -> web.Response:
        self.valid.clear()
        return web.json_response({"revoked": True})

    async def discovery(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"issuer": f"{self.base}/realm", "token_endpoint": f"{self.base}/connect/token"}
        )

    async def token(self, request: web.Request) -> web.Response:
        text = await request.text()
        if request.content_type == "application/json":
            fields = json.loads(text)
        else:
            fields = {k: v[0] if len(v) == 1 else v for k, v in parse_qs(text).items()}
        basic = request.headers.get("Authorization", "")
        if basic.startswith("Basic "):
            fields["basic"] = base64.b64decode(basic[6:]).decode()
        self.token_requests.append({"path": request.path, **fields})
        known = ("runtime", "s3cret")
        presented = (fields.get("client_id"), fields.get("client_secret"))
        if presented != known and fields.get("basic") != "runtime:s3cret":
            return web.json_response(
                {"error": "invalid_client", "error_description": "unknown client"}, status=401
            )
        token = secrets.token_hex(8)
        self.valid.add(token)
        return web.json_response({"access_token": token, "token_type": "bearer", "expires_in": 600})

    async def resource(self, request: web.Request) -> web.Response:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or token not in self.valid:
            return web.json_response({"error": "invalid_token"}, status=401)
        return web.json_response({"granted": True})

    async def digest(self, request: web.Request) -> web.Response:
        """RFC 7616 with MD5 and qop=auth, checked here independently of the client."""
        header = request.headers.get("Authorization", "")
        if header.startswith("Digest "):
            parts = dict(_digest_parts(header[7:]))
            ha1 = _md5(f"{parts.get('username')}:{REALM}:password123")
            ha2 = _md5(f"{request.method}:{parts.get('uri')}")
            expected = _md5(
                f"{ha1}:{parts.get('nonce')}:{parts.get('nc')}:{parts.get('cnonce')}:auth:{ha2}"
            )
            if parts.get("nonce") in self.nonces and parts.get("response") == expected:
                return web.json_response({"user": parts["username"]})
        nonce = secrets.token_hex(8)
        self.nonces.add(nonce)
        challenge = f'Digest realm="{REALM}", qop="auth", nonce="{nonce}", algorithm=MD5'
        return web.Response(status=401, headers={"WWW-Authenticate": challenge})


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def _digest_parts(text: str) -> list[tuple[str, str]]:
    parts = []
    for item in text.split(","):
        key, _, value = item.strip().partition("=")
        parts.append((key, value.strip('"')))
    return parts


@pytest.fixture
async def authority() -> AsyncIterator[Authority]:
    server = Authority()
    runner = web.AppRunner(server.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    server.base = f"http://127.0.0.1:{port}"
    yield server
    await runner.cleanup()


async def run(body: str, base: str, secrets: dict[str, Any] | None = None) -> Any:
    text = (
        "document: {dsl: '1.0.3', namespace: test, name: auth, version: '1.0.0'}\n"
        + body.replace("BASE", base)
    )
    store = MemoryStore()
    registry = WorkflowRegistry(store)
    workflow = registry.add(ensure_valid(parse_text(text)).data)
    _, outcome = await run_to_completion(
        store, registry, workflow, {}, env=Environment(secrets=secrets or {}), timeout=20
    )
    return outcome


OAUTH2_TWICE = """
do:
  - first: &call
      call: http
      with:
        method: get
        endpoint:
          uri: BASE/resource
          authentication:
            oauth2:
              authority: BASE/realm
              grant: client_credentials
              client: {id: runtime, secret: s3cret}
              scopes: [api, read]
              audiences: [resources]
  - second: *call
"""


async def test_oauth2_client_credentials_fetch_one_token_for_many_calls(
    authority: Authority,
) -> None:
    outcome = await run(OAUTH2_TWICE, authority.base)
    assert outcome.status == "completed", outcome.error
    assert outcome.output == {"granted": True}
    (request,) = authority.token_requests  # the second call reused the token
    assert request == {
        "path": "/realm/oauth2/token",
        "grant_type": "client_credentials",
        "client_id": "runtime",
        "client_secret": "s3cret",
        "scope": "api read",
        "audience": "resources",
    }


async def test_the_negotiated_token_is_the_calls_authorization(authority: Authority) -> None:
    body = OAUTH2_TWICE.replace(
        "  - second: *call",
        "  - second:\n      <<: *call\n"
        "      output: {as: '${ {granted: .granted, auth: $authorization} }'}",
    )
    outcome = await run(body, authority.base)
    assert outcome.status == "completed", outcome.error
    auth = outcome.output["auth"]
    assert auth["scheme"] == "Bearer" and auth["parameter"] in authority.valid


async def test_a_kept_token_the_resource_refuses_is_replaced_once(
    authority: Authority,
) -> None:
    body = OAUTH2_TWICE.replace(
        "  - second: *call",
        "  - revoke: {call: http, with: {method: post, endpoint: BASE/revoke}}\n  - second: *call",
    )
    outcome = await run(body, authority.base)
    assert outcome.status == "completed", outcome.error
    assert len(authority.token_requests) == 2  # the first token, then one after the 401


async def test_oidc_discovers_the_token_endpoint_and_checks_the_issuer(
    authority: Authority,
) -> None:
    body = """
do:
  - call:
      call: http
      with:
        method: get
        endpoint:
          uri: BASE/resource
          authentication:
            oidc:
              authority: BASE/realm
              grant: password
              username: ada
              password: lovelace
              client: {id: runtime, secret: s3cret, authentication: client_secret_basic}
              request: {encoding: application/json}
              issuers: [BASE/realm]
"""
    outcome = await run(body, authority.base)
    assert outcome.status == "completed", outcome.error
    (request,) = authority.token_requests
    assert request["path"] == "/connect/token"
    assert request["basic"] == "runtime:s3cret"
    assert (request["grant_type"], request["username"], request["password"]) == (
        "password",
        "ada",
        "lovelace",
    )
    other_issuer = body.replace("issuers: [BASE/realm]", "issuers: [BASE/other]")
    wrong_issuer = await run(other_issuer, authority.base)
    assert wrong_issuer.status == "faulted"
    assert wrong_issuer.error["type"].endswith("/authentication")
    assert "not among `issuers`" in wrong_issuer.error["detail"]


async def test_an_oauth2_authority_given_as_its_discovery_document(
    authority: Authority,
) -> None:
    discovered = OAUTH2_TWICE.replace(
        "authority: BASE/realm", "authority: BASE/realm/.well-known/openid-configuration"
    )
    outcome = await run(discovered, authority.base)
    assert outcome.status == "completed", outcome.error
    assert [r["path"] for r in authority.token_requests] == ["/connect/token"]


async def test_a_refused_client_faults_with_the_authoritys_reason(authority: Authority) -> None:
    outcome = await run(OAUTH2_TWICE.replace("secret: s3cret", "secret: wrong"), authority.base)
    assert outcome.status == "faulted"
    assert outcome.error["type"].endswith("/authentication")
    assert outcome.error["status"] == 401
    assert "invalid_client (unknown client)" in outcome.error["detail"]


async def test_digest_answers_the_servers_challenge_with_credentials_from_a_secret(
    authority: Authority,
) -> None:
    body = """
use:
  secrets: [digestUser]
  authentications:
    userDigest: {digest: {use: digestUser}}
do:
  - call:
      call: http
      with:
        method: get
        endpoint: {uri: BASE/digest/x, authentication: {use: userDigest}}
"""
    user = {"username": "ada", "password": "password123"}
    outcome = await run(body, authority.base, {"digestUser": user})
    assert outcome.status == "completed", outcome.error
    assert outcome.output == {"user": "ada"}
    wrong = await run(body, authority.base, {"digestUser": {**user, "password": "nope"}})
    assert wrong.status == "faulted" and wrong.error["status"] == 401


async def test_grants_that_cannot_run_here_fault_with_a_configuration_error(
    authority: Authority,
) -> None:
    outcome = await run(
        OAUTH2_TWICE.replace("grant: client_credentials", "grant: authorization_code"),
        authority.base,
    )
    assert outcome.status == "faulted"
    assert outcome.error["type"].endswith("/configuration")
    assert "needs a user's browser" in outcome.error["detail"]
