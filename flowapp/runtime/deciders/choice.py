"""Which decider a server runs with: in its own process, or in worker processes that are
killed when a turn runs over its time (what a shared server needs)."""

from __future__ import annotations

from dataclasses import dataclass

from flowapp.runtime.deciders.base import Decider
from flowapp.runtime.deciders.settings import (
    DEFAULT_DECISION_SECONDS,
    DEFAULT_MEMORY_MIB,
    DEFAULT_WORKERS,
)


@dataclass(frozen=True, kw_only=True)
class DeciderSettings:
    # Decider processes (0: decide in this process, unprotected), the wall time one turn
    # may take in one before it is killed, and the memory each may use.
    workers: int = DEFAULT_WORKERS
    decision_seconds: float = DEFAULT_DECISION_SECONDS
    memory_mib: int = DEFAULT_MEMORY_MIB


def decider_for(settings: DeciderSettings) -> Decider:
    if settings.workers <= 0:
        from flowapp.runtime.deciders.inprocess import InProcessDecider

        return InProcessDecider()
    from flowapp.runtime.deciders.pool import IsolatedDecider, PoolSettings

    pool = PoolSettings(
        workers=settings.workers,
        decision_seconds=settings.decision_seconds,
        memory_bytes=settings.memory_mib << 20,
    )
    return IsolatedDecider(pool)
