"""Signals from other processes (cancel, suspend, events for executions held here ...),
polled from the store and delivered to the executions this process holds.

A signal is consumed in the checkpoint of the turn that decided it, so one delivered
twice (polled again before that commit) is harmless. Signals of executions that have
ended are dropped; those of executions being adopted here are kept for after.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Set
from dataclasses import KW_ONLY, dataclass

from flowapp.engine.signals import Signal, signal_from_json
from flowapp.runtime.background import Background, backoff
from flowapp.runtime.committer import GroupCommitter
from flowapp.runtime.executions import LiveExecutions
from flowapp.store.port import SignalRecord, Store
from flowapp.store.rules import FINAL_STATUSES

log = logging.getLogger("flowapp.runtime.runtime")

BATCH = 500
Deliver = Callable[[str, Signal, int | None], bool]


@dataclass(eq=False)
class SignalPoller(Background):
    store: Store
    committer: GroupCommitter
    executions: LiveExecutions
    _: KW_ONLY
    deliver: Deliver
    adopting: Set[str]
    owner: str
    poll_interval: float

    def __post_init__(self) -> None:
        # Signals from other processes are rare: no need to look for them as often as
        # for new work.
        self._interval = max(self.poll_interval, 0.1)
        super().__init__(self.poll_once, pause=self._pause, failed="polling signals failed")

    async def _pause(self, failures: int) -> None:
        await asyncio.sleep(backoff(self._interval, failures))

    async def poll_once(self) -> None:
        pending = await self.committer.run_in_writer(
            lambda: self.store.pending_signals(owner=self.owner, limit=BATCH)
        )
        undelivered = [item for item in pending if not self._deliver_stored(item)]
        await self.discard_stale(undelivered)

    def _deliver_stored(self, item: SignalRecord) -> bool:
        """Deliver a signal from the store; False if it can no longer apply."""
        try:
            signal = signal_from_json(item.payload)
        except (ValueError, TypeError):
            log.error("dropping unreadable signal %s for %s", item.id, item.execution_id)
            return False
        return self.deliver(item.execution_id, signal, item.id)

    async def discard_stale(self, undelivered: list[SignalRecord]) -> None:
        """Drop signals whose execution has ended; keep those of executions this process
        holds but is still adopting (they are delivered once it runs)."""
        stale = []
        for item in undelivered:
            if item.execution_id in self.adopting:
                continue
            record = await self.executions.record(item.execution_id)
            if record is None or record.status in FINAL_STATUSES:
                stale.append(item.id)
        if stale:
            await self.committer.run_in_writer(self.store.discard_signals, stale)
