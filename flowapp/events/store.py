"""The storage port of the embedded broker: events and per-subscription delivery state.

``StoreBroker`` keeps everything durable behind this narrow protocol, so the same broker
runs on the in-memory fake (``memory.py``, also ``memory://``) and on SQLite
(``sqlite.py``). The model:

- ``append`` stores an event with one *pending* delivery per matching subscription, in
  one transaction, unless an event with the same ``source`` + ``id`` is already stored
  (then nothing happens: duplicates are dropped).
- ``due`` lists a subscription's pending deliveries whose next attempt time has come, and
  when the next one after those comes due.
- ``settle`` records an attempt's result: delivered, pending again (retry at a time),
  dead-lettered (handed to the sink) or dead (no sink, or the sink failed too).
- ``purge`` forgets settled events older than the duplicate window; dead ones stay
  until ``forget`` (a deleted subscription) or an operator removes them.

Times are wall-clock seconds (``time.time()``) because they must survive a restart;
the caller passes ``now`` in, so stores never read the clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from flowapp.events.cloudevents import Event


class Status(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD_LETTERED = "dead_lettered"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class PendingDelivery:
    """A delivery that is due: the event (by its store sequence) and attempts made so far."""

    seq: int
    event: Event
    attempts: int


@dataclass(frozen=True, slots=True)
class Due:
    deliveries: list[PendingDelivery]
    next_at: float | None
    """When the earliest pending delivery not in ``deliveries`` comes due, if any."""


@dataclass(frozen=True, slots=True)
class Settlement:
    """The result of an attempt, to record."""

    subscription: str
    seq: int
    status: Status
    attempts: int
    next_attempt_at: float = 0.0
    error: str = ""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An event that a subscription gave up on and no sink took."""

    subscription: str
    event: Event
    attempts: int
    error: str


class BrokerStore(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def append(self, event: Event, subscriptions: Sequence[str], *, now: float) -> bool:
        """Store the event with pending deliveries; False if it is a duplicate."""
        ...

    async def due(self, subscription: str, *, now: float, limit: int) -> Due: ...

    async def settle(self, settlement: Settlement, *, now: float) -> None: ...

    async def dead(self, subscription: str | None = None, *, limit: int = 100) -> list[DeadLetter]:
        """Dead deliveries, oldest first, for one subscription or all."""
        ...

    async def forget(self, subscription: str) -> None:
        """Drop every delivery of a subscription that no longer exists."""
        ...

    async def purge(self, *, before: float) -> int:
        """Forget events published before ``before`` that nothing waits on; how many."""
        ...
