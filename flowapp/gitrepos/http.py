"""``git_http_app``: app repositories served over git's smart HTTP protocol, as ASGI.

Mounted at ``/git`` by the server, so ``git clone http://host:8080/git/<app>.git`` works
(the ``.git`` suffix is optional). Three routes, those of ``git http-backend``:

- ``GET /<app>.git/info/refs?service=git-upload-pack|git-receive-pack``: the ref
  advertisement that starts every clone, fetch and push;
- ``POST /<app>.git/git-upload-pack``: the client's wants and haves in, a pack out;
- ``POST /<app>.git/git-receive-pack``: ref updates and a pack in, a status report out.

A request flows: route (``_route``) -> authenticate (HTTP Basic; the password is a
flowapp API token; a ``Bearer`` token is accepted too) -> checks -> the dulwich
handler in a worker thread (``service.serve``), reading the body and streaming the
response through an ``Exchange`` (``bridge``) -> after a push that moved ``main``,
``on_push(app, old_sha, new_sha)``. ``on_push`` is awaited before the response ends,
so when ``git push`` returns the platform has taken note of the new head (it should
enqueue the deploy, not run it); its exceptions are logged, never shown to git.

Only the smart protocol is served (git 1.6.6 and later; protocol v2 clients fall back to
v0, which dulwich speaks). Names that are not app names, such as ``..``, never reach
the file system: they are simply not found.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from flowapp.apps.names import DNS_LABEL
from flowapp.gitrepos.asgi import NO_CACHE, ASGIApp, Receive, Scope, Send, header, respond
from flowapp.gitrepos.asgi import route_path as _route_path
from flowapp.gitrepos.bridge import BodyTooLarge, Exchange
from flowapp.gitrepos.errors import RepositoryNotFound
from flowapp.gitrepos.repos import Repositories
from flowapp.gitrepos.service import DEPLOY_REF, SERVICES, RefUpdate, serve

# (app, username, password) -> may this caller use this app's repository?
Authenticate = Callable[[str, str | None, str | None], Awaitable[bool]]
OnPush = Callable[[str, str, str], Awaitable[None]]
# (app, commit sha) -> the problems that keep the commit from deploying ([]: none). Runs in
# the worker thread serving the push, before ``main`` moves.
CheckPush = Callable[[str, str], list[str]]

MAX_BODY_BYTES = 256 * 1024 * 1024
"""The largest request body accepted, after gzip: a push of up to 256 MiB (streamed to
disk by dulwich, never held in memory). ``docs/git.md`` says the same."""

logger = logging.getLogger(__name__)
_ROUTE = re.compile(r"/(?P<app>[^/]+?)(?:\.git)?/(?P<endpoint>info/refs|git-[a-z]+-pack)")
_CHALLENGE = [(b"www-authenticate", b'Basic realm="flowapp"')]


@dataclass(frozen=True, slots=True)
class _Options:
    limit: int
    check_push: CheckPush | None


@dataclass(frozen=True, slots=True)
class _Request:
    app: str
    service: str
    advertise: bool  # GET info/refs rather than POST to the service


def git_http_app(
    repos: Repositories,
    *,
    authenticate: Authenticate | None,
    on_push: OnPush | None,
    max_body_bytes: int = MAX_BODY_BYTES,
    check_push: CheckPush | None = None,
) -> ASGIApp:
    """The ASGI app; ``authenticate=None`` serves everyone, ``on_push=None`` notifies no one,
    ``check_push=None`` lets any commit onto ``main``."""
    options = _Options(max_body_bytes, check_push)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # no lifespan work, no websockets
        request = await _admit(scope, send, authenticate)
        if request is None:
            return
        served = await _exchange(repos, request, scope, receive, send, options)
        if served is not None:
            exchange, updates = served
            await _notify(on_push, request.app, updates)
            await exchange.finish()

    return app


async def _admit(scope: Scope, send: Send, authenticate: Authenticate | None) -> _Request | None:
    """The request if it may go on; otherwise the refusal is sent and None returned."""
    found = _ROUTE.fullmatch(_route_path(scope))
    if found is None or not DNS_LABEL.fullmatch(found["app"]):
        await respond(send, 404, "not found")
        return None
    if authenticate is not None and not await _authenticated(scope, authenticate, found["app"]):
        await respond(send, 401, "authentication required", _CHALLENGE)
        return None
    return await _checked(scope, send, found["app"], found["endpoint"])


async def _checked(scope: Scope, send: Send, app: str, endpoint: str) -> _Request | None:
    advertise = endpoint == "info/refs"
    service = _query_service(scope) if advertise else endpoint
    method = "GET" if advertise else "POST"
    if scope["method"] != method:
        await respond(send, 405, f"use {method}", [(b"allow", method.encode())])
    elif advertise and service not in SERVICES:
        await respond(send, 403, "only git's smart HTTP protocol is served (git 1.6.6 or later)")
    elif service not in SERVICES:
        await respond(send, 404, "not found")
    elif not advertise and header(scope, b"content-type") != f"application/x-{service}-request":
        await respond(send, 415, f"expected Content-Type application/x-{service}-request")
    else:
        return _Request(app, service, advertise)
    return None


def _query_service(scope: Scope) -> str | None:
    query = bytes(scope.get("query_string", b"")).decode("latin-1")
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        if name == "service":
            return value
    return None


async def _authenticated(scope: Scope, authenticate: Authenticate, app: str) -> bool:
    username, password = _credentials(header(scope, b"authorization"))
    try:
        return await authenticate(app, username, password)
    except Exception:
        logger.exception("git: authenticate() failed; refusing the request")
        return False


def _credentials(authorization: str | None) -> tuple[str | None, str | None]:
    """(username, password) from ``Basic`` credentials; (None, token) for ``Bearer``."""
    scheme, _, param = (authorization or "").strip().partition(" ")
    if scheme.lower() == "bearer" and param.strip():
        return None, param.strip()
    if scheme.lower() != "basic":
        return None, None
    try:
        decoded = base64.b64decode(param.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    username, separator, password = decoded.partition(":")
    return (username, password) if separator else (None, None)


async def _exchange(
    repos: Repositories,
    request: _Request,
    scope: Scope,
    receive: Receive,
    send: Send,
    options: _Options,
) -> tuple[Exchange, list[RefUpdate]] | None:
    """Serve the request through dulwich in a worker thread.

    The exchange (its response still open) and the refs a push updated; None if the
    request failed before any output and an error response was sent instead.
    """
    kind = "advertisement" if request.advertise else "result"
    headers = [(b"content-type", f"application/x-{request.service}-{kind}".encode()), *NO_CACHE]
    gzip = (header(scope, b"content-encoding") or "").strip().lower() in ("gzip", "x-gzip")
    exchange = Exchange(receive, send, headers=headers, gzip=gzip, limit=options.limit)
    read = _no_body if request.advertise else exchange.read
    check_push = options.check_push
    check = None if check_push is None else partial(check_push, request.app)

    def work() -> list[RefUpdate]:
        with repos.open(request.app) as repo:
            return serve(
                repo,
                request.service,
                advertise=request.advertise,
                read=read,
                emit=exchange.emit,
                check=check,
            )

    try:
        return exchange, await asyncio.to_thread(work)
    except Exception as exc:
        exchange.abandon()
        await _failed(exc, exchange, send, request)
        return None


async def _failed(exc: Exception, exchange: Exchange, send: Send, request: _Request) -> None:
    """Answer a request whose service raised, if the response has not started yet.

    Once it has, the status is sent and only an incomplete response is left to give:
    returning without finishing it makes the server close the connection, which git
    reports as an error.
    """
    if isinstance(exc, RepositoryNotFound):
        status, text = 404, f"app `{request.app}` has no repository"
    elif isinstance(exc, BodyTooLarge):
        status, text = 413, str(exc)
    elif isinstance(exc, ConnectionAbortedError):
        logger.info("git: %s for %s ended early: %s", request.service, request.app, exc)
        status, text = 400, str(exc)
    else:
        logger.error("git: %s for %s failed", request.service, request.app, exc_info=exc)
        status, text = 500, "the git service failed; see the server log"
    if not exchange.started:
        await respond(send, status, text)


def _no_body(size: int) -> bytes:
    return b""


async def _notify(on_push: OnPush | None, app: str, updates: list[RefUpdate]) -> None:
    for update in updates:
        if on_push is None or update.ref != DEPLOY_REF.decode():
            continue
        try:
            await on_push(app, update.old, update.new)
        except Exception:
            logger.exception("git: on_push(%s, %s, %s) failed", app, update.old, update.new)
