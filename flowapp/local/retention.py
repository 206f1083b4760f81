"""The retention sweeper of ``flowapp up``: now and then, purge what the policy lets go.

Each round purges, for each filter of the policy, batch after batch
(``flowapp.store.retention``): one batch in a worker thread, then a pause on the event
loop proportional to the batch's time, so the engine's commits (on the same database,
often on this very loop) get the database most of the time. Stopping takes effect
between two batches, not at the end of a round of a million task runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import KW_ONLY, dataclass, field

from flowapp.apps.model import FlowApp
from flowapp.local.alerts.periodic import Periodic
from flowapp.store.port import Purged, PurgeFilter, Store
from flowapp.store.retention import BATCH, MIN_PAUSE, PAUSE_RATIO, RetentionPolicy

log = logging.getLogger(__name__)

INTERVAL = 600.0  # seconds between rounds


def app_retentions(apps: Iterable[FlowApp]) -> dict[str, float]:
    """Each app's own retention (``spec.retention``), from the specs it serves: when two
    revisions of one app serve at once and disagree, the longer one wins (a rollout that
    shortens the retention applies once it is complete)."""
    own: dict[str, float] = {}
    for app in apps:
        if app.retention is not None:
            own[app.name] = max(app.retention, own.get(app.name, 0.0))
    return own


@dataclass(eq=False)
class RetentionSweeper:
    store: Store
    policy: Callable[[], RetentionPolicy]
    _: KW_ONLY
    interval: float = INTERVAL
    batch: int = BATCH
    clock: Callable[[], float] = time.time
    purged: Purged = field(default_factory=Purged, init=False)  # since start, for logs and tests

    def __post_init__(self) -> None:
        self._periodic = Periodic("retention", self.sweep, self.interval)

    async def start(self) -> None:
        await self._periodic.start()

    async def stop(self) -> None:
        """Stop between two batches (the round in progress ends early)."""
        await self._periodic.stop()

    async def sweep(self) -> Purged:
        """One round: purge what the policy lets go now (until stopped)."""
        total = Purged()
        for where in self.policy().filters(self.clock()):
            total += await self._purge(where)
        if not total.nothing:
            log.info(
                "retention: deleted %d executions and %d task runs",
                total.executions,
                total.task_runs,
            )
        return total

    async def _purge(self, where: PurgeFilter) -> Purged:
        total = Purged()
        stopping = self._periodic.stopping
        while not stopping.is_set():
            started = time.perf_counter()
            done = await asyncio.to_thread(self.store.purge_batch, where, limit=self.batch)
            if done.nothing:
                break
            total += done
            self.purged += done
            pause = max(MIN_PAUSE, PAUSE_RATIO * (time.perf_counter() - started))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=pause)
        return total
