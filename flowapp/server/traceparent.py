"""An inbound request's W3C ``traceparent``: the executions it starts continue its trace.

The header's value is put in ``tracecontext.CURRENT`` for the request's handling (the
same asyncio task, or tasks it creates); the runtime saves it with an execution started
meanwhile (when tracing is on), so the execution's span is the caller's span's child.
An invalid value is ignored (the runtime validates it), as W3C Trace Context says.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from flowapp.functions.tracecontext import CURRENT

_HEADER = b"traceparent"


class TraceparentMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == _HEADER:
                    token = CURRENT.set(value.decode("latin-1"))
                    try:
                        await self.app(scope, receive, send)
                    finally:
                        CURRENT.reset(token)
                    return
        await self.app(scope, receive, send)
