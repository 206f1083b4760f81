"""Keep-alive HTTP/1.1 connections for calling functions: the hot path of every step.

Why not aiohttp's client here: a function call is one small POST on a reused loopback
connection, and aiohttp spends about 0.24 ms of CPU per such request on this 2-core
machine, more than the rest of a workflow step. These connections speak just what a call
needs (one request at a time per connection, bodies with Content-Length, replies with
Content-Length or chunked) and parse replies with httptools (the parser uvicorn uses),
for about 0.07 ms (measured with ``bench/function_overhead.py``-style loops, 5,000 calls,
50 in flight). Everything else (fetching documents, ``call: http``) keeps using aiohttp.

An idle connection is kept for ``max_idle`` seconds, below every host's own keep-alive
timeout (Node.js 65 s, aiohttp 3630 s), so that a pooled connection is seldom one the
host is closing. When it is (the host restarted, or closed it at that very moment), the
request fails before any byte of a reply: it is sent once more on a new connection (a
call is at-least-once anyway, its event id the idempotency key), rather than fail a
call that most likely never reached the function.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from urllib.parse import urlsplit

import httptools

_PRUNE_AT = 64  # pools (host:port) before those without idle connections are dropped


class ConnectionFailed(Exception):
    """The connection could not be made, or broke before a complete reply."""


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes
    keep_alive: bool


class _Connection(asyncio.Protocol):
    """One connection; ``send`` writes a request and waits for its whole reply."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[Reply] | None = None
        self.closed = False
        self.replying = False  # a byte of the current reply has arrived
        self.idle_since = 0.0
        self._reset()

    def _reset(self) -> None:
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []

    # --- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.replying = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ConnectionFailed(f"malformed HTTP reply: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        reason = f": {exc}" if exc else ""
        self._fail(ConnectionFailed(f"the connection closed before the reply was complete{reason}"))

    # --- httptools callbacks ------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        reply = Reply(
            self.parser.get_status_code(),
            self._headers,
            b"".join(self._body),
            self.parser.should_keep_alive(),
        )
        self._reset()
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(reply)

    # --- use ----------------------------------------------------------------------------

    def _fail(self, error: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(error)

    async def send(self, request: bytes) -> Reply:
        assert self.transport is not None
        self.replying = False
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self.waiter

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class _Pool:
    """Idle connections to one host:port, reused last-in first-out."""

    def __init__(self, host: str, port: int, keep: int, max_idle: float) -> None:
        self.host = host
        self.port = port
        self.keep = keep
        self.max_idle = max_idle
        self.idle: deque[_Connection] = deque()

    def reuse(self) -> _Connection | None:
        """The most recently used idle connection that is still fit, if any."""
        now = asyncio.get_running_loop().time()
        while self.idle:
            connection = self.idle.pop()
            if not connection.closed and now - connection.idle_since <= self.max_idle:
                return connection
            connection.close()
        return None

    async def connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _, connection = await loop.create_connection(_Connection, self.host, self.port)
        except OSError as exc:
            raise ConnectionFailed(f"cannot connect to {self.host}:{self.port}: {exc}") from exc
        return connection

    def release(self, connection: _Connection, reusable: bool) -> None:
        if reusable and not connection.closed and len(self.idle) < self.keep:
            connection.idle_since = asyncio.get_running_loop().time()
            self.idle.append(connection)
        else:
            connection.close()

    def close(self) -> None:
        while self.idle:
            self.idle.pop().close()


def _request_bytes(
    method: str, path: str, host: str, headers: dict[str, str], body: bytes
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines.extend(f"{name}: {value}" for name, value in headers.items())
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Connections:
    """Pools of keep-alive connections by host and port."""

    def __init__(self, *, keep_per_host: int = 256, max_idle: float = 15.0) -> None:
        self.keep_per_host = keep_per_host
        self.max_idle = max_idle
        self._pools: dict[tuple[str, int], _Pool] = {}

    def _pool(self, host: str, port: int) -> _Pool:
        pool = self._pools.get((host, port))
        if pool is None:
            if len(self._pools) >= _PRUNE_AT:  # instances come and go on new ports
                self._pools = {key: kept for key, kept in self._pools.items() if kept.idle}
            pool = _Pool(host, port, self.keep_per_host, self.max_idle)
            self._pools[(host, port)] = pool
        return pool

    async def post(self, url: str, headers: dict[str, str], body: bytes, timeout: float) -> Reply:
        """POST ``body``; ``TimeoutError`` after ``timeout`` s, ``ConnectionFailed`` if the
        connection fails or breaks. A connection is reused only after a complete reply."""
        parts = urlsplit(url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ConnectionFailed(f"only http:// URLs are supported here, got {url!r}")
        port = parts.port or 80
        pool = self._pool(parts.hostname, port)
        request = _request_bytes("POST", parts.path or "/", parts.netloc, headers, body)
        async with asyncio.timeout(timeout):
            reused = pool.reuse()
            if reused is not None:
                try:
                    return await self._exchange(pool, reused, request)
                except ConnectionFailed:
                    if reused.replying:  # the host read the request: it is not sent twice
                        raise
            return await self._exchange(pool, await pool.connect(), request)

    @staticmethod
    async def _exchange(pool: _Pool, connection: _Connection, request: bytes) -> Reply:
        reusable = False
        try:
            reply = await connection.send(request)
            reusable = reply.keep_alive
            return reply
        finally:
            pool.release(connection, reusable)

    def forget(self, host: str, port: int) -> None:
        """Close the connections to ``host:port`` (a server that is going away)."""
        pool = self._pools.pop((host, port), None)
        if pool is not None:
            pool.close()

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
