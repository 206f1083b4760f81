"""The bridge between one ASGI request and the worker thread that serves it.

dulwich's protocol handlers are blocking code calling ``read(n)`` and ``write(data)``;
ASGI is ``await receive()`` and ``await send(message)`` on the event loop. ``Exchange``
gives the thread both, each running the matching coroutine on the loop and waiting for
it (``asyncio.run_coroutine_threadsafe``):

- ``read`` pulls request body chunks only as the handler asks for them, so a large push
  is never held whole in memory; a gzip body (git compresses large requests) is inflated
  here, in the thread, with a limit on the inflated size;
- ``emit`` starts the response on first use, then sends each chunk; waiting for each
  send is the backpressure: a slow client slows the handler down instead of the
  response piling up in memory.

The response starts with the first chunk, not before, so an error raised before any
output (an unknown repository, an unreadable request) can still become a proper status.
Once the body has been read, a watcher notices a client that hangs up, and the next
``emit`` stops the handler instead of computing a pack nobody will read.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Coroutine
from typing import Any, TypeVar

from flowapp.gitrepos.asgi import Headers, Receive, Send

T = TypeVar("T")

# How long the thread waits for one receive or send: a client that neither sends nor
# reads for this long is treated as gone, so the worker thread is not held forever.
IO_TIMEOUT = 300.0


class BodyTooLarge(OSError):
    """The (inflated) request body passed the limit.

    An ``OSError`` because dulwich reports those while unpacking a push as a failed
    ``unpack`` to git, which shows the message to the user.
    """


class Exchange:
    """One request/response pair, used from a worker thread (``read``, ``emit``)."""

    def __init__(
        self, receive: Receive, send: Send, *, headers: Headers, gzip: bool, limit: int
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._receive = receive
        self._send = send
        self._headers = headers
        self._limit = limit
        self._inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16) if gzip else None
        self._pending = b""
        self._offset = 0
        self._size = 0
        self._body_done = False
        self._watcher: asyncio.Task[None] | None = None
        self._client_gone = False
        self.started = False

    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes of the (inflated) body; ``b""`` at its end. Thread only."""
        while self._offset == len(self._pending) and not self._body_done:
            chunk, self._body_done = self._call(self._next_chunk())
            self._pending, self._offset = self._inflate(chunk), 0
        data = self._pending[self._offset : self._offset + size]
        self._offset += len(data)
        return data

    def emit(self, chunk: bytes) -> None:
        """Send ``chunk`` as response body, starting the response first. Thread only."""
        self._call(self._send_chunk(chunk))

    async def finish(self) -> None:
        """End the response (starting it, empty, if nothing was emitted)."""
        self.abandon()
        if not self.started:
            await self._start()
        await self._send({"type": "http.response.body", "body": b"", "more_body": False})

    def abandon(self) -> None:
        """Stop watching for a hang-up: the response is finished or given up."""
        if self._watcher is not None:
            self._watcher.cancel()

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result(timeout=IO_TIMEOUT)
        except TimeoutError:
            future.cancel()
            raise ConnectionAbortedError("the client stalled; giving up") from None

    async def _next_chunk(self) -> tuple[bytes, bool]:
        message = await self._receive()
        if message["type"] == "http.disconnect":
            raise ConnectionAbortedError("the client went away during the request")
        done = not message.get("more_body", False)
        if done:
            self._watcher = asyncio.create_task(self._watch_disconnect())
        return bytes(message.get("body", b"")), done

    def _inflate(self, chunk: bytes) -> bytes:
        if self._inflater is not None:
            # At most one byte past the limit: enough to tell, never a decompression bomb.
            chunk = self._inflater.decompress(chunk, self._limit - self._size + 1)
        self._size += len(chunk)
        if self._size > self._limit:
            raise BodyTooLarge(f"request body larger than {self._limit} bytes (server limit)")
        if self._inflater is not None and self._body_done and not self._inflater.eof:
            raise ConnectionAbortedError("the gzip request body is truncated")
        return chunk

    async def _watch_disconnect(self) -> None:
        while (await self._receive())["type"] != "http.disconnect":
            pass
        self._client_gone = True

    async def _send_chunk(self, chunk: bytes) -> None:
        if self._client_gone:
            raise ConnectionAbortedError("the client went away during the response")
        if not self.started:
            await self._start()
        await self._send({"type": "http.response.body", "body": chunk, "more_body": True})

    async def _start(self) -> None:
        self.started = True
        await self._send({"type": "http.response.start", "status": 200, "headers": self._headers})
