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

import asyncio
import base64
import json
from typing import TYPE_CHECKING, Any

from yarl import URL

from flowapp.dsl import errors
from flowapp.engine.commands import CallHttp, FetchDocument
from flowapp.functions.tracecontext import ATTRIBUTE
from flowapp.functions.tracecontext import CURRENT as CURRENT_TRACE
from flowapp.runtime.effects.base import EffectError
from flowapp.runtime.effects.documents import (
    DOCUMENT_LIMITS,
    DocumentRefused,
    parse_document,
    read_capped,
)
from flowapp.runtime.effects.tokens import TokenSource
from flowapp.runtime.egress import EgressPolicy, EgressRefused, refused_by_policy

if TYPE_CHECKING:
    import aiohttp

_TEXTUAL = ("json", "text", "xml", "yaml", "javascript", "x-www-form-urlencoded")
REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 10
PRIVATE_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
KEPT_DOCUMENTS = 64  # fetched OpenAPI documents kept, by URL


def _communication(detail: str, status: int = 503) -> EffectError:
    return EffectError(errors.error(errors.COMMUNICATION, detail, status=status))


def _timeout(detail: str) -> EffectError:
    return EffectError(errors.error(errors.TIMEOUT, detail))


class HttpEffects:
    def __init__(
        self, *, timeout: float = 60.0, limit: int = 256, policy: EgressPolicy | None = None
    ) -> None:
        self.timeout = timeout
        self.limit = limit
        self.policy = policy or EgressPolicy()
        self._session: aiohttp.ClientSession | None = None
        self._documents: dict[str, Any] = {}
        self._digests: dict[tuple[str, str], aiohttp.DigestAuthMiddleware] = {}
        self.tokens = TokenSource(self._send, timeout=timeout)

    def session(self) -> aiohttp.ClientSession:
        # aiohttp is imported by the first call: a workflow that calls nothing over HTTP
        # (most `flowapp run`s) does not load it.
        import aiohttp

        from flowapp.runtime.egress_resolver import PolicyResolver

        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self.limit, ttl_dns_cache=300, resolver=PolicyResolver(self.policy)
            )
            self._session = aiohttp.ClientSession(connector=connector)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def call(self, command: CallHttp) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"headers": dict(command.headers)}
        traceparent = CURRENT_TRACE.get()  # set while tracing: the calling task run's span
        if traceparent is not None and not any(
            name.lower() == ATTRIBUTE for name in command.headers
        ):  # W3C Trace Context: the service called continues the execution's trace
            kwargs["headers"][ATTRIBUTE] = traceparent
        if command.has_body:
            if isinstance(command.body, (str, bytes)):
                kwargs["data"] = command.body
            else:
                kwargs["data"] = json.dumps(command.body)
                kwargs["headers"].setdefault("Content-Type", "application/json")
        seconds = command.timeout or self.timeout
        kwargs["follow"] = command.follow_redirects
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
        import aiohttp

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
        """One request, and with ``kwargs["follow"]`` its redirects (at most
        ``MAX_REDIRECTS``), each hop checked against the egress policy; a 3xx that is not
        followed is the answer."""
        import aiohttp

        options = dict(kwargs)
        follow = bool(options.pop("follow", False))
        max_bytes: int | None = options.pop("max_bytes", None)
        hops: list[URL] = []
        try:
            async with asyncio.timeout(seconds):
                return await self._hops(method, URL(url), options, (follow, max_bytes), hops)
        except TimeoutError:
            raise _timeout(f"{method} {url} did not answer within {seconds:g} s") from None
        except aiohttp.InvalidURL as exc:
            raise EffectError(errors.error(errors.CONFIGURATION, f"invalid URL: {exc}")) from None
        except (aiohttp.ClientError, OSError) as exc:
            refusal = refused_by_policy(exc)
            if refusal is not None:
                raise _egress(method, url, refusal, hops) from None
            raise _communication(f"{method} {url} failed: {exc or type(exc).__name__}") from None

    async def _hops(
        self,
        method: str,
        url: URL,
        options: dict[str, Any],
        reading: tuple[bool, int | None],
        hops: list[URL],
    ) -> dict[str, Any]:
        """``hops`` tells the caller which URL each request went to; ``reading``: whether
        redirects are followed, and the most bytes of the final body read."""
        follow, max_bytes = reading
        for _ in range(MAX_REDIRECTS + 1):
            hops.append(url)
            self.policy.check_url(url)
            async with self.session().request(
                method, url, allow_redirects=False, **options
            ) as response:
                location = response.headers.get("Location")
                if not follow or response.status not in REDIRECTS or not location:
                    if max_bytes is None:
                        return _response(response, await response.read())
                    return _response(response, await read_capped(response, max_bytes))
                target = response.url.join(URL(location))
                method, options = _redirected(method, options, response.status, url, target)
                url = target
        raise _communication(f"{method} {url}: more than {MAX_REDIRECTS} redirects", 502)

    async def fetch_document(self, command: FetchDocument) -> Any:
        cached = self._documents.get(command.url)
        if cached is not None:
            return cached
        kwargs = {
            "headers": dict(command.headers),
            "follow": True,
            "max_bytes": DOCUMENT_LIMITS.max_bytes,
        }
        try:
            response = await self._authorized(
                "GET", command.url, self.timeout, kwargs, command.auth
            )
            if not 200 <= response["status"] <= 299:
                raise _communication(
                    f"fetching {command.url} answered HTTP {response['status']}",
                    response["status"],
                )
            document = await parse_document(_document_text(response), command.url)
        except DocumentRefused as exc:
            raise _communication(f"the document at {command.url} is refused: {exc}", 502) from None
        if len(self._documents) >= KEPT_DOCUMENTS:
            self._documents.pop(next(iter(self._documents)))
        self._documents[command.url] = document
        return document


def _redirected(
    method: str, options: dict[str, Any], status: int, source: URL, target: URL
) -> tuple[str, dict[str, Any]]:
    """The next hop's method and options: 303 (and 301/302 after a POST) become a GET
    without a body; credentials are not sent to another origin."""
    options = {**options, "headers": dict(options.get("headers") or {})}
    if status == 303 or (status in (301, 302) and method == "POST"):
        method = "GET"
        options.pop("data", None)
        options["headers"] = {
            k: v for k, v in options["headers"].items() if k.lower() != "content-type"
        }
    if source.origin() != target.origin():
        options["headers"] = {
            k: v for k, v in options["headers"].items() if k.lower() not in PRIVATE_HEADERS
        }
        options.pop("middlewares", None)  # a digest answer is for its own origin
    return method, options


def _egress(method: str, url: str, refused: EgressRefused, hops: list[URL]) -> EffectError:
    detail = f"{method} {url}: {refused}"
    if len(hops) > 1:
        detail += f" (redirected to {hops[-1]})"
    return EffectError(errors.error(errors.AUTHORIZATION, detail, title="Egress Refused"))


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


def _document_text(response: dict[str, Any]) -> str:
    if not response["base64"]:
        return str(response["body"])
    return base64.b64decode(response["body"]).decode("utf-8", "replace")
