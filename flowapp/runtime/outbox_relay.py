"""The outbox relay: fire-and-forget commands carried out once they are committed.

Emitted events, unawaited sub-workflows and processes are saved in the outbox in the
same transaction as the decision that made them, and carried out here after: woken by
the pump when a commit added some, and once a second in any case (another process, or
a previous run of this one, may have left some). An item is carried out once; one that
fails is logged, not retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass
from typing import Any

from flowapp.runtime.background import Background
from flowapp.runtime.committer import GroupCommitter
from flowapp.runtime.environments import Environments
from flowapp.runtime.executions import LiveExecutions
from flowapp.runtime.metrics import RuntimeMetrics
from flowapp.runtime.outcome import UnknownExecution
from flowapp.runtime.registry import WorkflowRegistry
from flowapp.runtime.sealing import REFERENCES
from flowapp.store.port import OutboxItem, Store

log = logging.getLogger("flowapp.runtime.runtime")

BATCH = 200
CarryOut = Callable[[dict[str, Any], str | None], Awaitable[None]]


@dataclass(eq=False)
class OutboxRelay(Background):
    store: Store
    committer: GroupCommitter
    executions: LiveExecutions
    _: KW_ONLY
    wakeup: asyncio.Event  # set by whoever adds to the outbox (the pump, recovery)
    carry_out: CarryOut
    registry: WorkflowRegistry
    environments: Environments
    owner: str
    metrics: RuntimeMetrics | None = None

    def __post_init__(self) -> None:
        super().__init__(
            self.relay_once,
            pause=self._pause,
            failed="outbox relay failed; retrying",
            each_failure=True,
        )

    async def _pause(self, failures: int) -> None:
        """Until woken, or a second (what other processes left is found then)."""
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation
        # that arrives as the event is set, and ``stop`` then waits for this loop forever.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                await self.wakeup.wait()
        self.wakeup.clear()

    async def relay_once(self) -> None:
        """Carry out everything the outbox of this owner holds."""
        while True:
            items = await self.committer.run_in_writer(
                lambda: self.store.pending_outbox(limit=BATCH, owner=self.owner)
            )
            if self.metrics is not None:  # at least this many: a batch is BATCH at most
                self.metrics.outbox_backlog(len(items))
            if not items:
                return
            for item in items:
                try:
                    payload = await self._opened(item)
                    await self.carry_out(payload, item.execution_id)
                except Exception:
                    log.exception("outbox item %s failed; it will not be retried", item.id)
            await self.committer.run_in_writer(self.store.outbox_done, [i.id for i in items])

    async def _opened(self, item: OutboxItem) -> dict[str, Any]:
        """An outbox command with the secrets it refers to put back (its execution may
        have ended, and be known only to the store)."""
        if REFERENCES not in item.payload:
            return item.payload
        live = self.executions.held.get(item.execution_id)
        workflow = live.workflow if live is not None else None
        if workflow is None:
            record = await self.executions.record(item.execution_id)
            if record is None:
                raise UnknownExecution(item.execution_id)
            workflow = self.registry.of_execution(record.workflow_id)
        return self.environments.open_sealed(workflow, item.payload)
