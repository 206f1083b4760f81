"""The few ASGI pieces the git endpoint needs: types, header lookup, whole responses.

Plain ASGI rather than a framework: the endpoint has three routes, streams both ways,
and is mounted into whichever server the lead assembles (``/git`` in ``flowapp.server``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

Headers = list[tuple[bytes, bytes]]

# What git http-backend sends: smart HTTP answers change with every push.
NO_CACHE: Headers = [
    (b"cache-control", b"no-cache, max-age=0, must-revalidate"),
    (b"expires", b"Fri, 01 Jan 1980 00:00:00 GMT"),
    (b"pragma", b"no-cache"),
]


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of the request header ``name`` (lowercase), decoded as Latin-1."""
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def route_path(scope: Scope) -> str:
    """The path below where the app is mounted (``/app.git/info/refs`` under ``/git``).

    ASGI servers and Starlette's ``Mount`` keep the full path in ``path`` and the mount
    point in ``root_path``; older ones strip it. Both are handled.
    """
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root + "/"):
        return path[len(root) :]
    return path


async def respond(send: Send, status: int, text: str, headers: Headers | None = None) -> None:
    """A complete plain-text response (errors, refusals)."""
    body = f"{text}\n".encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode("ascii")),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
