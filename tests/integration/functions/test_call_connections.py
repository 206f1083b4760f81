"""Keep-alive connections for function calls against a real loopback server that closes
a kept-alive connection the way a host does when it restarts or times it out: the next
request on it gets no reply at all."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from flowapp.functions.connections import ConnectionFailed, Connections

REPLY = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}"


class OneRequestPerConnection:
    """Answers the first request of each connection (keeping it open), then closes the
    connection without a reply when a second request arrives on it."""

    def __init__(self) -> None:
        self.connections = 0
        self.answered = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await reader.readuntil(b"\r\n\r\n")
            await reader.readexactly(2)  # the test's bodies are two bytes
            writer.write(REPLY)
            await writer.drain()
            self.answered += 1
            await reader.readuntil(b"\r\n\r\n")  # a second request: dropped, unanswered
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def server() -> AsyncIterator[tuple[OneRequestPerConnection, str]]:
    handler = OneRequestPerConnection()
    listener = await asyncio.start_server(handler.serve, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    async with listener:
        yield handler, f"http://127.0.0.1:{port}/"


async def test_a_request_the_host_dropped_on_a_reused_connection_is_sent_again(
    server: tuple[OneRequestPerConnection, str],
) -> None:
    handler, url = server
    connections = Connections()
    try:
        for _ in range(3):
            reply = await connections.post(url, {}, b"{}", timeout=5)
            assert reply.status == 200
    finally:
        connections.close()
    assert handler.answered == 3
    assert handler.connections == 3  # each retry on a new connection


async def test_a_connection_idle_too_long_is_not_reused(
    server: tuple[OneRequestPerConnection, str],
) -> None:
    handler, url = server
    connections = Connections(max_idle=0.0)
    try:
        for _ in range(3):
            await connections.post(url, {}, b"{}", timeout=5)
            await asyncio.sleep(0.01)  # idle for longer than max_idle
    finally:
        connections.close()
    # No request was sent on a stale connection (the server would have dropped it).
    assert (handler.connections, handler.answered) == (3, 3)


async def test_a_fresh_connection_that_fails_is_not_retried() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    listener = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    connections = Connections()
    async with listener:
        with pytest.raises(ConnectionFailed, match="closed before the reply"):
            await connections.post(f"http://127.0.0.1:{port}/", {}, b"{}", timeout=5)
    connections.close()
