"""Refusing bodies over their limit (413) before they are read whole.

An ASGI middleware, so it covers every route alike, whether the route reads its body
itself (``bodies.py``) or FastAPI parses it into a model:

- a declared ``Content-Length`` over the limit is answered at once; the app never runs;
- otherwise the body is counted while it streams in, and the read that crosses the limit
  raises ``BodyTooLarge`` (a ``PayloadTooLarge``, answered 413 by ``errors.py``).

FastAPI turns any exception raised while it reads a model's body into a 400, so the
middleware also remembers that the limit was crossed and, when the response starts,
sends its own 413 instead of whatever the app answered.

The limit depends on the route (source uploads are larger); ``limit_for`` picks it from
the request path, or answers None for paths whose app limits its own bodies (git hosting,
mounted at ``/git``, which streams pushes to disk up to its own limit).
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flowapp.server.platform import PayloadTooLarge
from flowapp.server.problems import problem_json, problem_response

LimitFor = Callable[[str], int | None]


class BodyTooLarge(PayloadTooLarge):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body is larger than the limit of {limit:,} bytes")
        self.limit = limit


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limit_for: LimitFor) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(limit, scope["path"])(scope, receive, send)
            return
        await _LimitedRequest(self.app, limit)(scope, receive, send)


class _LimitedRequest:
    """One request's byte count, and the 413 that replaces the app's answer once crossed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.received = 0
        self.exceeded = False
        self.replaced = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted_receive() -> Message:
            if self.exceeded:  # never read on once the limit is crossed
                raise BodyTooLarge(self.limit)
            message = await receive()
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
                if self.received > self.limit:
                    self.exceeded = True
                    raise BodyTooLarge(self.limit)
            return message

        async def guarded_send(message: Message) -> None:
            if self.exceeded and message["type"] == "http.response.start":
                self.replaced = True
                await _too_large(self.limit, scope["path"])(scope, receive, send)
            if not self.replaced:
                await send(message)

        await self.app(scope, counted_receive, guarded_send)


def _too_large(limit: int, path: str) -> ASGIApp:
    detail = f"the request body is larger than the limit of {limit:,} bytes"
    return problem_response(problem_json(413, detail, instance=path, title="Payload Too Large"))


def _content_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length", "")
    return int(value) if value.isdigit() else None
