"""Keeping the leases of the executions this process holds.

Several processes can share one PostgreSQL database: each holds a lease on the
executions it advances and renews it every third of its length, on a loop of its own
(adopting a large backlog can take longer than a lease, and an unrenewed lease is taken
over by others). An execution whose lease another process took is let go here, and an
execution held in the store but not run here (claimed by a recovery that failed half-way,
or by a claim whose answer was lost) is adopted, a batch at a time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass

from flowapp.runtime.background import Background
from flowapp.runtime.committer import GroupCommitter
from flowapp.runtime.executions import LiveExecutions
from flowapp.runtime.recovery import Recovery
from flowapp.store.port import Store

log = logging.getLogger("flowapp.runtime.runtime")


@dataclass(eq=False)
class LeaseKeeper(Background):
    store: Store
    committer: GroupCommitter
    executions: LiveExecutions
    recovery: Recovery
    _: KW_ONLY
    owner: str
    clock: Callable[[], float]
    lease_seconds: float
    batch: int
    wake_outbox: Callable[[], None]

    def __post_init__(self) -> None:
        super().__init__(
            self.renew, pause=self._pause, failed="lease upkeep failed", each_failure=True
        )

    async def _pause(self, failures: int) -> None:
        await asyncio.sleep(self.lease_seconds / 3)

    async def renew(self) -> None:
        """Renew the leases of the executions held here; forget those whose lease was
        lost, adopt those held but not running here.

        The renewal runs on the writer thread while the event loop goes on starting and
        finishing executions, so its answer speaks only of what was live before it
        began: an execution started meanwhile is missing from it though its lease is
        fresh (forgetting it left its caller waiting until the next round adopted it),
        and one that ended meanwhile is in it though it is no orphan. An execution in
        the middle of a commit (its creation, say) is judged at the next round."""
        live_now = self.executions.held
        before = dict(live_now)
        settled = {execution_id for execution_id, live in before.items() if not live.pumping}
        held = set(
            await self.committer.run_in_writer(
                lambda: self.store.renew_leases(
                    self.owner, now=self.clock(), lease_seconds=self.lease_seconds
                )
            )
        )
        for execution_id in sorted(settled - held):
            live = before[execution_id]
            if live_now.get(execution_id) is live and not live.pumping:
                log.warning("lease of %s expired; leaving it to its new owner", execution_id)
                self.executions.forget(live)
        await self._adopt_orphans(held - before.keys())

    async def _adopt_orphans(self, held: set[str]) -> None:
        """Adopt executions we hold but do not run: claimed by a recovery that failed half-way
        (the store went away between claim and adoption), or by a claim whose answer was lost.
        Nobody else may take them while we renew their leases, so nobody else would run them.
        A batch at a time, so that renewing is not held up for long."""
        running = self.executions.held.keys()
        orphans = sorted(held - running - self.recovery.adopting)[: self.batch]
        if orphans:
            log.warning("adopting %d executions claimed but never started here", len(orphans))
            await self.recovery.adopt_all(orphans)
            self.wake_outbox()
