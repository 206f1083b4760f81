"""OAuth2 and OpenID Connect access tokens for ``call: http`` (``authentication: oauth2 |
oidc``), obtained from the authority the workflow names.

The engine hands these schemes over as settings, rendered and with secrets resolved
(``CallHttp.auth``); this module turns them into an ``Authorization`` header:

- the token endpoint: for ``oauth2``, ``authority`` + ``endpoints.token`` (default
  ``/oauth2/token``); for ``oidc``, and for an ``oauth2`` authority that is a discovery
  document without ``endpoints.token``, the ``token_endpoint`` of the authority's
  discovery document (``/.well-known/openid-configuration``, appended unless the
  authority is it);
- the request (RFC 6749, RFC 8693): ``grant_type``, ``scope`` and ``audience``, the grant's
  own fields (``password``: username and password; token exchange: the ``subject`` and
  ``actor`` tokens), and the client authenticated as ``client.authentication`` says
  (``client_secret_post`` by default, ``client_secret_basic``, ``client_secret_jwt``,
  ``private_key_jwt`` with ``client.assertion``, ``none``), form-encoded or as JSON per
  ``request.encoding``;
- ``issuers``, when given, must include the token's issuer (a JWT's ``iss``, else the
  discovery document's ``issuer``).

Tokens are kept per set of settings until 30 s before they expire, so a thousand calls cost
one token request; concurrent calls wait for the same request. ``authorization_code`` (it
needs a user's browser) and ``refresh_token`` (the DSL has no field for the refresh token)
fault with a configuration error.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from flowapp.dsl import errors
from flowapp.runtime.effects.base import EffectError

# (method, url, seconds, request kwargs) -> the response as ``HttpEffects`` returns it
Send = Callable[[str, str, float, dict[str, Any]], Awaitable[dict[str, Any]]]

DISCOVERY = "/.well-known/openid-configuration"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
EXPIRY_MARGIN = 30.0
UNKNOWN_LIFETIME = 60.0  # a token answered without ``expires_in`` is kept this long


def _configuration(detail: str) -> EffectError:
    return EffectError(errors.error(errors.CONFIGURATION, detail))


def _refused(detail: str) -> EffectError:
    return EffectError(errors.error(errors.AUTHENTICATION, detail))


@dataclass(frozen=True, slots=True)
class _Token:
    header: str
    expires_at: float


class TokenSource:
    def __init__(
        self, send: Send, *, timeout: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._send = send
        self.timeout = timeout
        self._clock = clock
        self._tokens: dict[str, _Token] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._discovered: dict[str, dict[str, Any]] = {}

    async def authorization(self, settings: dict[str, Any]) -> tuple[str, bool]:
        """The ``Authorization`` header for these settings, and whether it was kept from
        an earlier request (a 401 then means it went stale: ``forget`` and ask again)."""
        key = _key(settings)
        async with self._locks.setdefault(key, asyncio.Lock()):
            kept = self._tokens.get(key)
            if kept is not None and kept.expires_at > self._clock():
                return kept.header, True
            token = await self._request(settings)
            self._tokens[key] = token
            return token.header, False

    def forget(self, settings: dict[str, Any]) -> None:
        self._tokens.pop(_key(settings), None)

    async def _request(self, settings: dict[str, Any]) -> _Token:
        grant = str(settings.get("grant") or "")
        endpoint, discovery = await self._token_endpoint(settings)
        fields = _grant_fields(grant, settings)
        headers: dict[str, str] = {}
        _add_client(fields, headers, settings.get("client") or {}, endpoint)
        encoding = str((settings.get("request") or {}).get("encoding") or "")
        if encoding == "application/json":
            headers["Content-Type"] = "application/json"
            body = json.dumps({k: v[0] if len(v) == 1 else v for k, v in fields.items()})
        else:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urlencode([(k, v) for k, values in fields.items() for v in values])
        headers["Accept"] = "application/json"
        kwargs = {"headers": headers, "data": body}
        response = await self._send("POST", endpoint, self.timeout, kwargs)
        reply = _token_reply(response, endpoint)
        _check_issuer(settings.get("issuers"), reply["access_token"], discovery)
        token_type = str(reply.get("token_type") or "Bearer")
        if token_type.lower() == "bearer":
            token_type = "Bearer"
        lifetime = reply.get("expires_in")
        seconds = float(lifetime) if isinstance(lifetime, (int, float)) else UNKNOWN_LIFETIME
        expires_at = self._clock() + max(0.0, seconds - EXPIRY_MARGIN)
        return _Token(f"{token_type} {reply['access_token']}", expires_at)

    async def _token_endpoint(self, settings: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        authority = str(settings.get("authority") or "")
        if not authority.startswith(("http://", "https://")):
            raise _configuration(f"the authority must be an http(s) URL, got `{authority}`")
        token_path = (settings.get("endpoints") or {}).get("token")
        discovers = settings.get("scheme") == "oidc" or (
            authority.endswith(DISCOVERY) and token_path is None  # as the spec's examples
        )
        if not discovers:
            return _under(authority, str(token_path or "/oauth2/token")), {}
        url = authority if authority.endswith(DISCOVERY) else _under(authority, DISCOVERY)
        document = self._discovered.get(url)
        if document is None:
            response = await self._send("GET", url, self.timeout, {"headers": {}})
            document = _json_of(response)
            if not 200 <= response["status"] <= 299 or not isinstance(document, dict):
                raise _refused(f"no OpenID configuration at {url} (HTTP {response['status']})")
            self._discovered[url] = document
        endpoint = document.get("token_endpoint")
        if not isinstance(endpoint, str):
            raise _refused(f"the OpenID configuration at {url} names no token_endpoint")
        return endpoint, document


def _key(settings: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()


def _under(authority: str, path: str) -> str:
    if path.startswith(("http://", "https://")):
        return path
    return authority.rstrip("/") + "/" + path.lstrip("/")


def _grant_fields(grant: str, settings: dict[str, Any]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {"grant_type": [grant]}
    if grant == "password":
        username, password = settings.get("username"), settings.get("password")
        if username is None or password is None:
            raise _configuration("the `password` grant needs `username` and `password`")
        fields["username"], fields["password"] = [str(username)], [str(password)]
    elif grant == TOKEN_EXCHANGE:
        for role, required in (("subject", True), ("actor", False)):
            token = settings.get(role)
            if token is None and not required:
                continue
            if not isinstance(token, dict) or "token" not in token or "type" not in token:
                raise _configuration(f"token exchange needs `{role}: {{token, type}}`")
            fields[f"{role}_token"] = [str(token["token"])]
            fields[f"{role}_token_type"] = [str(token["type"])]
    elif grant == "authorization_code":
        raise _configuration("the `authorization_code` grant needs a user's browser")
    elif grant == "refresh_token":
        raise _configuration("the `refresh_token` grant has no refresh token to send")
    elif grant != "client_credentials":
        raise _configuration(f"unknown OAuth2 grant `{grant}`")
    if settings.get("scopes"):
        fields["scope"] = [" ".join(str(s) for s in settings["scopes"])]
    if settings.get("audiences"):
        fields["audience"] = [str(a) for a in settings["audiences"]]
    return fields


def _add_client(
    fields: dict[str, list[str]], headers: dict[str, str], client: dict[str, Any], endpoint: str
) -> None:
    method = str(client.get("authentication") or "client_secret_post")
    client_id = client.get("id")
    secret = client.get("secret")
    if method != "none" and client_id is None:
        raise _configuration(f"client authentication `{method}` needs `client.id`")
    if method == "client_secret_basic":
        pair = f"{quote(str(client_id), safe='')}:{quote(str(secret or ''), safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        return
    if client_id is not None:
        fields["client_id"] = [str(client_id)]
    if method == "client_secret_post":
        if secret is not None:
            fields["client_secret"] = [str(secret)]
    elif method in ("client_secret_jwt", "private_key_jwt"):
        assertion = client.get("assertion")
        if assertion is None and method == "client_secret_jwt" and secret is not None:
            assertion = _hs256_assertion(str(client_id), str(secret), endpoint)
        if assertion is None:
            raise _configuration(f"client authentication `{method}` needs `client.assertion`")
        fields["client_assertion_type"] = [JWT_BEARER]
        fields["client_assertion"] = [str(assertion)]
    elif method != "none":
        raise _configuration(f"unknown client authentication `{method}`")


def _hs256_assertion(client_id: str, secret: str, audience: str) -> str:
    """A ``client_secret_jwt`` assertion (RFC 7523): signed with the client secret."""
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + 300,
    }
    header = {"alg": "HS256", "typ": "JWT"}
    signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _json_of(response: dict[str, Any]) -> Any:
    if response.get("base64"):
        return None
    try:
        return json.loads(response.get("body") or "")
    except ValueError:
        return None


def _token_reply(response: dict[str, Any], endpoint: str) -> dict[str, Any]:
    reply = _json_of(response)
    if not 200 <= response["status"] <= 299:
        reason = ""
        if isinstance(reply, dict) and reply.get("error"):
            reason = f": {reply['error']}"
            if reply.get("error_description"):
                reason += f" ({reply['error_description']})"
        raise _refused(f"the token endpoint {endpoint} answered HTTP {response['status']}{reason}")
    if not isinstance(reply, dict) or not isinstance(reply.get("access_token"), str):
        raise _refused(f"the token endpoint {endpoint} answered without an access_token")
    return reply


def _check_issuer(issuers: Any, access_token: str, discovery: dict[str, Any]) -> None:
    if not issuers:
        return
    issuer = _jwt_claims(access_token).get("iss") or discovery.get("issuer")
    if issuer is None:
        raise _refused("`issuers` is set, but the token's issuer cannot be known (opaque token)")
    if issuer not in [str(i) for i in issuers]:
        raise _refused(f"the token was issued by `{issuer}`, which is not among `issuers`")


def _jwt_claims(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, TypeError):
        return {}
    return claims if isinstance(claims, dict) else {}
