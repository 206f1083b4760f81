"""Counting database round trips between processes and PostgreSQL, from outside them.

``pg_stat_statements`` needs the server started with it preloaded, and a count in the
driver misses what the driver sends by itself (``BEGIN``, pool pings, pipelines), so the
benchmark puts a TCP relay between the engine processes and the server and counts, per
connection, each time the client speaks after the server did: one round trip, whatever
the client sent in it (a pipeline of statements is one). It also counts the protocol's
requests (a simple ``Query`` or an extended-protocol ``Sync``), which tell statements
batched into one round trip apart from statements sent one by one.

The relay adds latency, so the benchmark counts in a run of its own, not in a timed one.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class Counts:
    round_trips: int = 0
    requests: int = 0
    connections: int = 0

    def minus(self, other: Counts) -> Counts:
        return Counts(
            self.round_trips - other.round_trips,
            self.requests - other.requests,
            self.connections - other.connections,
        )


@dataclass
class _Connection:
    """One client connection's state: who spoke last, and the client's message parser."""

    counts: Counts
    server_spoke: bool = True
    started: bool = False  # past the startup packet (and an SSL request), which have no type
    buffer: bytearray = field(default_factory=bytearray)

    def from_client(self, data: bytes) -> None:
        if self.server_spoke:
            self.counts.round_trips += 1
            self.server_spoke = False
        self.buffer += data
        while True:
            if not self.started:
                if len(self.buffer) < 8:
                    return
                (length,) = struct.unpack("!I", self.buffer[:4])
                code = struct.unpack("!I", self.buffer[4:8])[0]
                if len(self.buffer) < length:
                    return
                del self.buffer[:length]
                self.started = code not in (80877103, 80877104)  # SSLRequest, GSSENCRequest
                continue
            if len(self.buffer) < 5:
                return
            kind = self.buffer[0:1]
            (length,) = struct.unpack("!I", self.buffer[1:5])
            if len(self.buffer) < 1 + length:
                return
            del self.buffer[: 1 + length]
            if kind in (b"Q", b"S"):
                self.counts.requests += 1


class RoundTripRelay:
    """A relay on 127.0.0.1 to ``target``, counting in its own thread and event loop."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.counts = Counts()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._task: asyncio.Task[None] | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])

    def snapshot(self) -> Counts:
        with self._lock:
            return Counts(self.counts.round_trips, self.counts.requests, self.counts.connections)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._task = self._loop.create_task(self._serve())
        with contextlib.suppress(asyncio.CancelledError):
            self._loop.run_until_complete(self._task)
        left = asyncio.all_tasks(self._loop)  # the relays of connections still open
        for task in left:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
        self._loop.close()

    async def _serve(self) -> None:
        server = await asyncio.start_server(self._relay, sock=self._listener)
        self._ready.set()
        async with server:
            await server.serve_forever()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        with self._lock:
            self.counts.connections += 1
        connection = _Connection(self.counts)

        async def client_to_server() -> None:
            while data := await reader.read(65536):
                with self._lock:
                    connection.from_client(data)
                upstream_writer.write(data)
                await upstream_writer.drain()
            upstream_writer.close()

        async def server_to_client() -> None:
            while data := await upstream_reader.read(65536):
                connection.server_spoke = True
                writer.write(data)
                await writer.drain()
            writer.close()

        try:
            await asyncio.gather(client_to_server(), server_to_client())
        except (ConnectionError, asyncio.CancelledError):
            writer.close()
            upstream_writer.close()

    @contextlib.contextmanager
    def running(self) -> Iterator[RoundTripRelay]:
        self._thread.start()
        self._ready.wait(10)
        try:
            yield self
        finally:
            if self._task is not None:
                self._loop.call_soon_threadsafe(self._task.cancel)
            self._thread.join(10)


def relayed(url: str, port: int) -> str:
    """``url`` (``postgresql://user@127.0.0.1:5432/db``) through the relay's port."""
    head, _, tail = url.rpartition("@")
    _, _, database = tail.partition("/")
    return f"{head}@127.0.0.1:{port}/{database}"
