"""HTTP for ``call: http`` and ``call: openapi``: send what the engine built, answer with a
JSON-able response. One pooled aiohttp session serves every call (keep-alive).

Credentials are built here, at send time, from the settings the engine hands over
(``CallHttp.auth``), never by the engine, so that no resolved ``Authorization`` header is
saved with an execution's state: ``basic`` and ``bearer`` make the header, ``digest``
answers the server's challenge (aiohttp's digest middleware, kept per credentials so that
later calls answer at once), ``oauth2`` and ``oidc`` fetch a token from the authority
(``tokens.py``); a call answered 401 with a kept token is sent once more with a fresh one.
The response carries ``authorization`` (the spec's ``$authorization``) beside it."""

from __future__ import annotations

import base64
import json
from typing import Any

import aiohttp
from ruamel.yaml import YAML

from flowapp.dsl import errors
from flowapp.engine.commands import CallHttp, FetchDocument
from flowapp.runtime.effects.base import EffectError
from flowapp.runtime.effects.tokens import TokenSource

_TEXTUAL = ("json", "text", "xml", "yaml", "javascript", "x-www-form-urlencoded")


def _communication(detail: str, status: int = 503) -> EffectError:
    return EffectError(errors.error(errors.COMMUNICATION, detail, status=status))


def _timeout(detail: str) -> EffectError:
    return EffectError(errors.error(errors.TIMEOUT, detail))


class HttpEffects:
    def __init__(self, *, timeout: float = 60.0, limit: int = 256) -> None:
        self.timeout = timeout
        self.limit = limit
        self._session: aiohttp.ClientSession | None = None
        self._documents: dict[str, Any] = {}
        self._digests: dict[tuple[str, str], aiohttp.DigestAuthMiddleware] = {}
        self.tokens = TokenSource(self._send, timeout=timeout)

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self.limit, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(connector=connector)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def call(self, command: CallHttp) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"headers": dict(command.headers)}
        if command.has_body:
            if isinstance(command.body, (str, bytes)):
                kwargs["data"] = command.body
            else:
                kwargs["data"] = json.dumps(command.body)
                kwargs["headers"].setdefault("Content-Type", "application/json")
        seconds = command.timeout or self.timeout
        return await self._authorized(command.method, command.url, seconds, kwargs, command.auth)

    async def _authorized(
        self,
        method: str,
        url: str,
        seconds: float,
        kwargs: dict[str, Any],
        auth: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """Send with the credentials ``auth`` describes, built here at send time; the
        response carries ``authorization`` (``$authorization``) when some were sent."""
        if not auth:
            return await self._send(method, url, seconds, kwargs)
        scheme = auth.get("scheme")
        if scheme in ("basic", "bearer"):
            authorization = _static_authorization(auth)
            kwargs["headers"]["Authorization"] = " ".join(authorization.values())
            response = await self._send(method, url, seconds, kwargs)
            return {**response, "authorization": authorization}
        if scheme == "digest":
            kwargs["middlewares"] = (self._digest(auth),)
            return await self._send(method, url, seconds, kwargs)
        if scheme in ("oauth2", "oidc"):
            return await self._send_with_token(method, url, seconds, kwargs, auth)
        detail = f"{scheme} authentication is not supported by this runtime"
        raise EffectError(errors.error(errors.CONFIGURATION, detail))

    def _digest(self, auth: dict[str, Any]) -> aiohttp.DigestAuthMiddleware:
        credentials = (str(auth.get("username") or ""), str(auth.get("password") or ""))
        middleware = self._digests.get(credentials)
        if middleware is None:
            middleware = self._digests[credentials] = aiohttp.DigestAuthMiddleware(*credentials)
        return middleware

    async def _send_with_token(
        self,
        method: str,
        url: str,
        seconds: float,
        kwargs: dict[str, Any],
        auth: dict[str, Any],
    ) -> dict[str, Any]:
        while True:
            header, kept = await self.tokens.authorization(auth)
            kwargs["headers"]["Authorization"] = header
            response = await self._send(method, url, seconds, kwargs)
            if response["status"] != 401 or not kept:
                scheme, _, parameter = header.partition(" ")
                return {**response, "authorization": {"scheme": scheme, "parameter": parameter}}
            self.tokens.forget(auth)  # revoked or expired early: one fresh token, once

    async def _send(
        self, method: str, url: str, seconds: float, kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        try:
            async with self.session().request(
                method,
                url,
                timeout=aiohttp.ClientTimeout(total=seconds),
                allow_redirects=True,
                **kwargs,
            ) as response:
                body = await response.read()
                return _response(response, body)
        except TimeoutError:
            raise _timeout(f"{method} {url} did not answer within {seconds:g} s") from None
        except aiohttp.InvalidURL as exc:
            raise EffectError(errors.error(errors.CONFIGURATION, f"invalid URL: {exc}")) from None
        except (aiohttp.ClientError, OSError) as exc:
            raise _communication(f"{method} {url} failed: {exc or type(exc).__name__}") from None

    async def fetch_document(self, command: FetchDocument) -> Any:
        cached = self._documents.get(command.url)
        if cached is not None:
            return cached
        kwargs = {"headers": dict(command.headers)}
        response = await self._authorized("GET", command.url, self.timeout, kwargs, command.auth)
        if not 200 <= response["status"] <= 299:
            raise _communication(
                f"fetching {command.url} answered HTTP {response['status']}", response["status"]
            )
        document = _parse_document(response)
        self._documents[command.url] = document
        return document


def _static_authorization(auth: dict[str, Any]) -> dict[str, str]:
    """``basic`` and ``bearer``: the ``$authorization`` descriptor, whose scheme and
    parameter make the ``Authorization`` header."""
    if auth["scheme"] == "basic":
        pair = f"{auth.get('username', '')}:{auth.get('password', '')}"
        return {"scheme": "Basic", "parameter": base64.b64encode(pair.encode()).decode()}
    return {"scheme": "Bearer", "parameter": str(auth.get("token", ""))}


def _response(response: aiohttp.ClientResponse, body: bytes) -> dict[str, Any]:
    content_type = response.headers.get("Content-Type", "").lower()
    textual = not content_type or any(kind in content_type for kind in _TEXTUAL)
    text: str | None = None
    if textual:
        try:
            text = body.decode(response.charset or "utf-8")
        except (UnicodeDecodeError, LookupError):
            text = None
    return {
        "status": response.status,
        "headers": {str(k): v for k, v in response.headers.items()},
        "body": text if text is not None else base64.b64encode(body).decode(),
        "base64": text is None,
        "url": str(response.url),
    }


def _parse_document(response: dict[str, Any]) -> Any:
    text = response["body"]
    if response["base64"]:
        text = base64.b64decode(text).decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return YAML(typ="safe").load(text)
    except Exception as exc:  # ruamel raises many kinds; all mean "not a document"
        raise _communication(f"the document is neither JSON nor YAML: {exc}", 502) from None
