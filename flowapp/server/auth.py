"""Who may call what: bearer tokens checked before anything else happens.

Access rules live in one function, ``required_role``, so they can be read (and tested)
at a glance instead of being spread over route decorators:

- public: ``/healthz``, the OpenAPI document and its viewers (with their files under
  ``/docs/assets/``), webhooks (``/hooks/...``, checked by their trigger's own secret),
  the mounts the caller declares public (git hosting: it authenticates on its own terms)
  and the dashboard's page and files (its calls to the API carry the user's token);
- ``/api/v1/tokens...`` and changing an app's run policy (``PUT
  /api/v1/apps/{name}/run-policy``: which processes its code may start on the server's
  machine): admin;
- reads (GET, HEAD, OPTIONS) and ``POST /api/v1/validate`` (which changes nothing): viewer;
- every other request: developer. Anything not listed as public needs a token, so a
  route added later is protected until someone decides otherwise.

A token may be limited to some apps (``TokenRecord.apps``; never an admin's). Such a
token may make only requests about those apps (``app_scope_refusal``): under
``/api/v1/apps/{name}``, the app list (filtered), validation, ``whoami``, and the
executions routes, which check the execution's app themselves (``in_token_scope``). Git
hosting admits it to those apps' repositories only (``git_allows``).

Roles are ordered viewer < developer < admin. The check is an ASGI middleware because
it must run before FastAPI reads a body: an unauthenticated client learns nothing about
what the server would have made of its request (not even that it was malformed or too
large). The token's record is left in ``scope["state"]["token"]`` for the routes.
Missing or unknown tokens answer 401 with ``WWW-Authenticate: Bearer``; a role too low
answers 403.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import Annotated

import anyio.to_thread
from fastapi import Depends
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from flowapp.server.problems import problem_json, problem_response
from flowapp.store.platform import TokenRecord
from flowapp.store.platform.port import TokenStore
from flowapp.store.port import StoreError

ROLES = ("viewer", "developer", "admin")
PUBLIC_PATHS = frozenset({"/healthz", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
PUBLIC_PREFIXES = ("/hooks/", "/docs/assets/")
API_PATHS = ("/api", "/metrics")
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})  # the safe methods
READ_ONLY_POSTS = frozenset({"/api/v1/validate"})
TOKENS = "/api/v1/tokens"
APPS = "/api/v1/apps"
EXECUTIONS = "/api/v1/executions"  # the routes check the execution's app
OPEN_TO_LIMITED = frozenset({"/api/v1/whoami", "/api/v1/validate"})
# An app's settings that widen what its code may do on the machine.
ADMIN_APP_SETTINGS = re.compile(r"/api/v1/apps/[^/]+/run-policy/?")


def required_role(
    method: str,
    path: str,
    *,
    public_prefixes: Iterable[str] = (),
    public_paths: Iterable[str] = (),
) -> str | None:
    """The least role that may make this request; None when it needs no token. The API's
    own paths are never public, whatever is mounted (a dashboard at ``/`` included)."""
    public = (
        path in PUBLIC_PATHS
        or path in public_paths
        or _under(path, (*PUBLIC_PREFIXES, *public_prefixes))
    )
    if public and not _under(path, API_PATHS):
        return None
    if path == TOKENS or path.startswith(TOKENS + "/"):
        return "admin"
    if method not in READ_METHODS and ADMIN_APP_SETTINGS.fullmatch(path):
        return "admin"
    if method in READ_METHODS or (method == "POST" and path in READ_ONLY_POSTS):
        return "viewer"
    return "developer"


def allows(role: str, required: str) -> bool:
    return role in ROLES and ROLES.index(role) >= ROLES.index(required)


def app_scope_refusal(method: str, path: str, apps: tuple[str, ...]) -> str | None:
    """Why a token limited to ``apps`` may not make this request; None if it may."""
    if not apps or path in OPEN_TO_LIMITED or _under(path, (EXECUTIONS,)):
        return None
    listed = ", ".join(apps)
    if path.rstrip("/") == APPS:
        if method in READ_METHODS:
            return None
        return f"this token is limited to apps ({listed}): it cannot create apps"
    if path.startswith(APPS + "/"):
        name = path[len(APPS) + 1 :].split("/", 1)[0]
        return None if name in apps else f"this token is limited to apps ({listed}), not {name}"
    return f"this token is limited to apps ({listed}): {path} is not about one of them"


def in_token_scope(token: TokenRecord, app: str | None) -> bool:
    return not token.apps or app in token.apps


def git_allows(token: TokenRecord, app: str) -> bool:
    """Git hosting (clone and push): developers and admins, a limited token only to its
    apps' repositories."""
    return allows(token.role, "developer") and in_token_scope(token, app)


def bearer_token(authorization: str) -> str | None:
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def current_token(request: Request) -> TokenRecord:
    """The caller's token (a route dependency); the middleware has checked it."""
    token: TokenRecord = request.state.token
    return token


TokenDep = Annotated[TokenRecord, Depends(current_token)]


class AuthMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        platform_store: TokenStore,
        public_prefixes: Iterable[str] = (),
        public_paths: Iterable[str] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.platform_store = platform_store
        self.public_prefixes = tuple(public_prefixes)
        self.public_paths = frozenset(public_paths)
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        path = scope["path"]
        required = required_role(
            request.method,
            path,
            public_prefixes=self.public_prefixes,
            public_paths=self.public_paths,
        )
        if required is None:
            await self.app(scope, receive, send)
            return
        answer, record = await self._check(request, required)
        if answer is not None:
            await answer(scope, receive, send)
            return
        scope.setdefault("state", {})["token"] = record
        await self.app(scope, receive, send)

    async def _check(
        self, request: Request, required: str
    ) -> tuple[ASGIApp | None, TokenRecord | None]:
        path = request.url.path
        token = bearer_token(request.headers.get("authorization", ""))
        if token is None:
            return _unauthorized(path, "this request needs an `Authorization: Bearer` token"), None
        try:
            verify = partial(self.platform_store.verify_token, token, now=self.clock())
            record = await anyio.to_thread.run_sync(verify)
        except StoreError:
            detail = "the token store is unavailable; try again later"
            return problem_response(problem_json(503, detail, instance=path)), None
        if record is None:
            return _unauthorized(path, "the token is unknown or revoked", invalid=True), None
        if not allows(record.role, required):
            detail = f"this request needs the {required} role; the token has {record.role}"
            return problem_response(problem_json(403, detail, instance=path)), None
        refusal = app_scope_refusal(request.method, path, record.apps)
        if refusal is not None:
            return problem_response(problem_json(403, refusal, instance=path)), None
        return None, record


def _under(path: str, prefixes: Iterable[str]) -> bool:
    """``path`` is ``prefix`` or below it (``/git`` covers ``/git/a``, not ``/gitx``)."""
    return any(path == p.rstrip("/") or path.startswith(p.rstrip("/") + "/") for p in prefixes)


def _unauthorized(path: str, detail: str, *, invalid: bool = False) -> ASGIApp:
    challenge = 'Bearer error="invalid_token"' if invalid else "Bearer"
    body = problem_json(401, detail, instance=path)
    return problem_response(body, headers={"WWW-Authenticate": challenge})
