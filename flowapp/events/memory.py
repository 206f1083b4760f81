"""The in-memory ``BrokerStore``: the fake for tests and the ``memory://`` backend.

It keeps the same rules as the SQLite store (duplicates by ``source`` + ``id``, one
delivery row per subscription, due order by next attempt time then sequence) with plain
dicts. Nothing survives the process; reusing one ``MemoryStore`` object across two
brokers is how tests simulate a restart on durable storage.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

from flowapp.events.cloudevents import Event, event_key
from flowapp.events.store import DeadLetter, Due, PendingDelivery, Settlement, Status


@dataclass(slots=True)
class _Stored:
    event: Event
    published_at: float


@dataclass(slots=True)
class _Delivery:
    attempts: int
    next_attempt_at: float
    status: Status
    error: str = ""


class MemoryStore:
    def __init__(self) -> None:
        self._events: dict[int, _Stored] = {}
        self._keys: dict[tuple[str, str], int] = {}
        self._deliveries: dict[tuple[str, int], _Delivery] = {}
        self._next_seq = 1

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def append(self, event: Event, subscriptions: Sequence[str], *, now: float) -> bool:
        key = event_key(event)
        if key in self._keys:
            return False
        seq, self._next_seq = self._next_seq, self._next_seq + 1
        # A deep copy stands in for serialisation: later changes by the caller stay out.
        self._events[seq] = _Stored(copy.deepcopy(event), now)
        self._keys[key] = seq
        for name in subscriptions:
            self._deliveries[(name, seq)] = _Delivery(0, now, Status.PENDING)
        return True

    async def due(self, subscription: str, *, now: float, limit: int) -> Due:
        pending = sorted(
            (row.next_attempt_at, seq, row.attempts)
            for (name, seq), row in self._deliveries.items()
            if name == subscription and row.status is Status.PENDING
        )
        ready = [p for p in pending if p[0] <= now][:limit]
        taken = {seq for _, seq, _ in ready}
        later = [at for at, seq, _ in pending if seq not in taken]
        deliveries = [
            PendingDelivery(seq, copy.deepcopy(self._events[seq].event), attempts)
            for _, seq, attempts in ready
        ]
        return Due(deliveries, min(later) if later else None)

    async def settle(self, settlement: Settlement, *, now: float) -> None:
        row = self._deliveries.get((settlement.subscription, settlement.seq))
        if row is None:
            return  # the subscription was forgotten while the attempt ran
        row.status = settlement.status
        row.attempts = settlement.attempts
        row.next_attempt_at = settlement.next_attempt_at
        row.error = settlement.error

    async def dead(self, subscription: str | None = None, *, limit: int = 100) -> list[DeadLetter]:
        rows = sorted(
            (seq, name, row)
            for (name, seq), row in self._deliveries.items()
            if row.status is Status.DEAD and subscription in (None, name)
        )
        return [
            DeadLetter(name, copy.deepcopy(self._events[seq].event), row.attempts, row.error)
            for seq, name, row in rows[:limit]
        ]

    async def forget(self, subscription: str) -> None:
        for key in [k for k in self._deliveries if k[0] == subscription]:
            del self._deliveries[key]

    async def purge(self, *, before: float) -> int:
        waiting = {
            seq
            for (_, seq), row in self._deliveries.items()
            if row.status in (Status.PENDING, Status.DEAD)
        }
        old = [s for s, e in self._events.items() if e.published_at < before and s not in waiting]
        for seq in old:
            del self._keys[event_key(self._events.pop(seq).event)]
        for key in [k for k in self._deliveries if k[1] in old]:
            del self._deliveries[key]
        return len(old)
