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

from flowapp.apps.model import FlowApp
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


class RetentionSweeper:
    def __init__(
        self,
        store: Store,
        policy: Callable[[], RetentionPolicy],
        *,
        interval: float = INTERVAL,
        batch: int = BATCH,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be > 0 seconds, not {interval!r}")
        self.name = "retention"
        self._store = store
        self._policy = policy
        self._interval = interval
        self._batch = batch
        self._clock = clock
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.purged = Purged()  # since start, for logs and tests

    async def start(self) -> None:
        if self._task is None or self._task.done():
            self._stopping = asyncio.Event()
            self._task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            self._stopping.set()
            await task

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.sweep()
            except Exception:
                # The next round starts over from what the database holds.
                log.exception("retention: round failed; retrying in %.0f s", self._interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self._interval)

    async def sweep(self) -> Purged:
        """One round: purge what the policy lets go now (until stopped)."""
        total = Purged()
        for where in self._policy().filters(self._clock()):
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
        while not self._stopping.is_set():
            started = time.perf_counter()
            done = await asyncio.to_thread(self._store.purge_batch, where, limit=self._batch)
            if done.nothing:
                break
            total += done
            self.purged += done
            pause = max(MIN_PAUSE, PAUSE_RATIO * (time.perf_counter() - started))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=pause)
        return total
