"""Fakes for tests without servers: an in-memory broker ``Source`` and a recording sink.

``MemorySource`` behaves like a broker that counts deliveries and redelivers what was not
acknowledged (``redeliver`` puts the message back, ``close`` returns unacknowledged ones),
so the runner's ack/retry/dead-letter/back-pressure logic can be tested in milliseconds.
``RecordingSink`` records events, can fail the first attempts or always, can be slow, and
tracks how many calls ran at once.

Part of the public testing kit: production code never imports it (``.importlinter``).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from flowapp.triggers.base import DeadLetter, Event, Incoming
from flowapp.triggers.errors import DeadLetterError, TriggerConnectionError


@dataclass(frozen=True, slots=True)
class MemoryMessage:
    id: str
    body: bytes
    headers: Mapping[str, Any] = field(default_factory=dict)
    deliveries: int = 1


class MemorySource:
    """An in-memory broker queue implementing the ``Source`` protocol."""

    def __init__(self, *, fail_opens: int = 0, source: str = "memory://test") -> None:
        self.queue: deque[MemoryMessage] = deque()
        self.held: dict[str, MemoryMessage] = {}
        self.acked: list[str] = []
        self.dead_letters: list[tuple[MemoryMessage, DeadLetter]] = []
        self.fail_opens = fail_opens
        self.fail_dead_letters = 0
        self.opens = 0
        self.max_received = 0
        self._source = source
        self._open = False
        self._serial = 0

    def publish(self, body: bytes, *, headers: Mapping[str, Any] | None = None) -> str:
        self._serial += 1
        message_id = f"m{self._serial}"
        self.queue.append(MemoryMessage(message_id, body, dict(headers or {})))
        return message_id

    async def open(self) -> None:
        self.opens += 1
        if self.fail_opens > 0:
            self.fail_opens -= 1
            raise TriggerConnectionError("memory broker is down")
        self._open = True

    async def receive(self, limit: int) -> Sequence[MemoryMessage]:
        if not self._open:
            raise TriggerConnectionError("memory broker connection closed")
        if not self.queue:
            await asyncio.sleep(0.005)
        batch = [self.queue.popleft() for _ in range(min(limit, len(self.queue)))]
        self.held.update((m.id, m) for m in batch)
        self.max_received = max(self.max_received, len(batch))
        return batch

    def describe(self, message: MemoryMessage) -> Incoming:
        return Incoming(
            id=message.id,
            source=self._source,
            subject="test",
            body=message.body,
            headers=message.headers,
            deliveries=message.deliveries,
        )

    async def ack(self, message: MemoryMessage) -> None:
        self.held.pop(message.id, None)
        self.acked.append(message.id)

    async def redeliver(self, message: MemoryMessage, delay: float) -> None:
        await asyncio.sleep(delay)
        self.held.pop(message.id, None)
        self.queue.append(replace(message, deliveries=message.deliveries + 1))

    async def dead_letter(self, message: MemoryMessage, letter: DeadLetter) -> None:
        if self.fail_dead_letters > 0:
            self.fail_dead_letters -= 1
            raise DeadLetterError("memory dead letter failed")
        self.dead_letters.append((message, letter))

    async def close(self) -> None:
        # Like a broker on a closed connection: unacknowledged messages become deliverable.
        self._open = False
        for message in self.held.values():
            self.queue.appendleft(replace(message, deliveries=message.deliveries + 1))
        self.held.clear()


class RecordingSink:
    """A sink that records events; ``fail_first`` failures per event id, or ``fail_always``."""

    def __init__(
        self, *, fail_first: int = 0, fail_always: bool = False, delay: float = 0.0
    ) -> None:
        self.events: list[Event] = []
        self.attempts: Counter[str] = Counter()
        self.active = 0
        self.max_active = 0
        self._fail_first = fail_first
        self._fail_always = fail_always
        self._delay = delay

    async def __call__(self, event: Event) -> None:
        self.attempts[event["id"]] += 1
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            if self._delay:
                await asyncio.sleep(self._delay)
            if self._fail_always or self.attempts[event["id"]] <= self._fail_first:
                raise RuntimeError(f"sink refused {event['id']}")
            self.events.append(event)
        finally:
            self.active -= 1

    @property
    def ids(self) -> list[str]:
        return [e["id"] for e in self.events]


async def eventually(check: Callable[[], bool], *, timeout: float = 10.0) -> None:
    """Wait until ``check()`` is true; raise ``AssertionError`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.01)
