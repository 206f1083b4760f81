"""Test harness for the event bus against real servers (imported by conftest and tests).

``Subscribers`` is an aiohttp server's state: each path behaves as named -- ``/ok/<name>``
200, ``/flaky/<name>`` 503 twice per event then 200, ``/fail/<name>`` 500 with body
``boom``, ``/reply/<name>`` 200 with a CloudEvent reply -- and records what it received.

``Backend`` opens brokers of one kind (memory, SQLite in ``tmp_path``, JetStream on
127.0.0.1:4222) on *one* durable location, which is how a test restarts the process.
Each NATS test gets its own stream (uuid suffix), deleted afterwards, so tests of other
people sharing the server never see ours.
"""

from __future__ import annotations

import contextlib
import socket
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import nats
from aiohttp import web

from flowapp.events.broker import Broker, StoreBroker
from flowapp.events.cloudevents import from_http, to_binary
from flowapp.events.factory import open_broker
from flowapp.events.memory import MemoryStore
from tests.servers import unavailable

NATS_HOST, NATS_PORT = "127.0.0.1", 4222
Event = dict[str, Any]


def nats_reachable() -> bool:
    try:
        socket.create_connection((NATS_HOST, NATS_PORT), timeout=1).close()
        return True
    except OSError:
        return False


def require_nats() -> None:
    if nats_reachable():
        return
    unavailable(f"NATS is not listening on {NATS_HOST}:{NATS_PORT}")


class Subscribers:
    """What each path received (parsed CloudEvents, with the time of arrival)."""

    def __init__(self) -> None:
        self.received: dict[str, list[Event]] = defaultdict(list)
        self.arrivals: dict[str, list[float]] = defaultdict(list)
        self.base = ""

    def url(self, path: str) -> str:
        return f"{self.base}/{path}"

    def ids(self, path: str) -> list[str]:
        return [e["id"] for e in self.received[path]]

    async def handle(self, request: web.Request) -> web.Response:
        behaviour, name = request.match_info["behaviour"], request.match_info["name"]
        path = f"{behaviour}/{name}"
        (event,) = from_http(dict(request.headers), await request.read())
        self.received[path].append(event)
        self.arrivals[path].append(time.monotonic())
        return self._answer(behaviour, path, event)

    def _answer(self, behaviour: str, path: str, event: Event) -> web.Response:
        if behaviour == "flaky":
            tries = sum(1 for e in self.received[path] if e["id"] == event["id"])
            return web.Response(status=503 if tries <= 2 else 200)
        if behaviour == "fail":
            return web.Response(status=500, text="boom")
        if behaviour == "reply":
            reply = {"specversion": "1.0", "id": f"reply-{event['id']}", "source": "/reply"}
            headers, body = to_binary({**reply, "type": "com.example.reply", "data": {"ok": 1}})
            return web.Response(status=200, headers=headers, body=body)
        return web.Response(status=200)


class Backend:
    """Opens brokers of one kind on one durable location, and cleans up after them."""

    def __init__(self, kind: str, tmp_path: Path) -> None:
        self.kind = kind
        self.memory = MemoryStore()
        self.stream = f"test_events_{uuid.uuid4().hex[:12]}"
        self.url = {
            "sqlite": f"sqlite:///{tmp_path / 'bus.db'}",
            "nats": f"nats://{NATS_HOST}:{NATS_PORT}?stream={self.stream}",
        }.get(kind, "memory://")
        self._opened: list[Broker] = []

    def open(self) -> Broker:
        broker = StoreBroker(self.memory) if self.kind == "memory" else open_broker(self.url)
        self._opened.append(broker)
        return broker

    async def close(self) -> None:
        for broker in self._opened:
            await broker.stop()
        if self.kind == "nats":
            connection = await nats.connect(f"nats://{NATS_HOST}:{NATS_PORT}")
            js = connection.jetstream()
            for stream in (self.stream, f"{self.stream}_DEAD"):
                with contextlib.suppress(nats.js.errors.NotFoundError):
                    await js.delete_stream(stream)
            await connection.close()
