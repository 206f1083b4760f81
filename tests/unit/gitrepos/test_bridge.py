"""``Exchange``: request bodies read from a worker thread (gzip, limits), responses streamed."""

from __future__ import annotations

import asyncio
import gzip
import os
from collections.abc import Callable, MutableMapping
from typing import Any

import pytest

from flowapp.gitrepos.bridge import BodyTooLarge, Exchange

Message = MutableMapping[str, Any]
HEADERS = [(b"content-type", b"application/x-git-upload-pack-result")]


class Peer:
    """The ASGI server's side: body messages to hand out, and what the app sent."""

    def __init__(self, *messages: Message) -> None:
        self.messages = list(messages)
        self.sent: list[Message] = []
        self.hang_up = asyncio.Event()

    async def receive(self) -> Message:
        if self.messages:
            return self.messages.pop(0)
        await self.hang_up.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    def exchange(self, *, gzip: bool = False, limit: int = 1 << 30) -> Exchange:
        return Exchange(self.receive, self.send, headers=HEADERS, gzip=gzip, limit=limit)


def body(*chunks: bytes) -> list[Message]:
    last = len(chunks) - 1
    return [
        {"type": "http.request", "body": chunk, "more_body": i < last}
        for i, chunk in enumerate(chunks)
    ]


def read_all(exchange: Exchange, size: int = 1000) -> Callable[[], bytes]:
    def read() -> bytes:
        data = bytearray()
        while chunk := exchange.read(size):
            data += chunk
        return bytes(data)

    return read


async def test_a_body_in_several_messages_is_read_in_pieces() -> None:
    payload = os.urandom(50_000)
    peer = Peer(*body(payload[:7], payload[7:30_000], b"", payload[30_000:]))

    assert await asyncio.to_thread(read_all(peer.exchange(), 333)) == payload


async def test_a_gzip_body_is_inflated() -> None:
    payload = b"0032have " + os.urandom(20_000).hex().encode()
    packed = gzip.compress(payload)
    peer = Peer(*body(packed[:10], packed[10:500], packed[500:]))

    assert await asyncio.to_thread(read_all(peer.exchange(gzip=True))) == payload


@pytest.mark.parametrize("compressed", [False, True])
async def test_a_body_over_the_limit_is_refused(compressed: bool) -> None:
    # 16 MiB of zeros compress to 16 KiB: the limit applies to what is inflated.
    payload = bytes(16 << 20) if compressed else bytes(2 << 20)
    peer = Peer(*body(gzip.compress(payload) if compressed else payload))

    with pytest.raises(BodyTooLarge, match="larger than 1048576 bytes"):
        await asyncio.to_thread(read_all(peer.exchange(gzip=compressed, limit=1 << 20)))


async def test_a_truncated_gzip_body_is_an_error() -> None:
    peer = Peer(*body(gzip.compress(b"x" * 1000)[:-8]))

    with pytest.raises(ConnectionAbortedError, match="truncated"):
        await asyncio.to_thread(read_all(peer.exchange(gzip=True)))


async def test_a_client_that_leaves_during_the_body_stops_the_reader() -> None:
    peer = Peer({"type": "http.request", "body": b"abc", "more_body": True})
    peer.hang_up.set()

    with pytest.raises(ConnectionAbortedError, match="went away"):
        await asyncio.to_thread(read_all(peer.exchange()))


async def test_the_response_starts_with_the_first_chunk_and_ends_on_finish() -> None:
    peer = Peer(*body(b""))
    exchange = peer.exchange()

    def work() -> None:
        exchange.emit(b"one")
        exchange.emit(b"two")

    await asyncio.to_thread(work)
    await exchange.finish()

    assert peer.sent == [
        {"type": "http.response.start", "status": 200, "headers": HEADERS},
        {"type": "http.response.body", "body": b"one", "more_body": True},
        {"type": "http.response.body", "body": b"two", "more_body": True},
        {"type": "http.response.body", "body": b"", "more_body": False},
    ]


async def test_finish_without_output_is_an_empty_response() -> None:
    peer = Peer()
    exchange = peer.exchange()

    await exchange.finish()

    assert [message["type"] for message in peer.sent] == [
        "http.response.start",
        "http.response.body",
    ]


async def test_a_client_that_leaves_after_its_request_stops_the_response() -> None:
    peer = Peer(*body(b"want"))
    exchange = peer.exchange()
    await asyncio.to_thread(read_all(exchange))
    peer.hang_up.set()
    await asyncio.sleep(0)  # the watcher sees the disconnect

    with pytest.raises(ConnectionAbortedError, match="went away"):
        await asyncio.to_thread(exchange.emit, b"pack")
    assert peer.sent == []
