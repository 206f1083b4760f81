"""Taking executions over: our own back after a restart, those of processes whose lease
expired, and submitted ones nobody started.

Claimed executions are read in batches, and each is adopted: held here, and every effect
its saved state still waits for is carried out again (calls are sent again with the same
idempotency key, timers re-armed, subscriptions re-registered).

Quarantine: an execution the previous process died deciding (the decision journal says
which) has that counted in its state before it is decided again, and is faulted instead
once the process has died deciding it ``QUARANTINE_AFTER`` times. An execution whose
saved state refers to secrets no longer supplied is faulted too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from flowapp.dsl import errors
from flowapp.engine.commands import StartTimer, Subscribe
from flowapp.engine.decide import new_state
from flowapp.engine.signals import Abort, Continue, Signal, Start
from flowapp.engine.state import PENDING, ExecutionState
from flowapp.runtime.committer import GroupCommitter
from flowapp.runtime.dispatch import Dispatcher
from flowapp.runtime.environments import Environments
from flowapp.runtime.executions import LiveExecutions
from flowapp.runtime.journal import QUARANTINE_AFTER
from flowapp.runtime.live import LiveExecution
from flowapp.runtime.outcome import UnknownExecution
from flowapp.runtime.registry import WorkflowRegistry
from flowapp.runtime.turns import quarantine_error
from flowapp.store.port import Checkpoint, ExecutionRecord, LeaseClaim, Store
from flowapp.store.rules import FINAL_STATUSES

log = logging.getLogger("flowapp.runtime.runtime")

Loaded = list[tuple[ExecutionRecord, dict[str, Any] | None]]


class Recovery:
    def __init__(
        self,
        store: Store,
        committer: GroupCommitter,
        executions: LiveExecutions,
        *,
        dispatcher: Dispatcher,
        deliver: Callable[[str, Signal], bool],
        registry: WorkflowRegistry,
        environments: Environments,
        owner: str,
        clock: Callable[[], float],
        lease_seconds: float,
        wake_outbox: Callable[[], None],
    ) -> None:
        self._store = store
        self._committer = committer
        self._held = executions.held
        self._dispatcher = dispatcher
        self._deliver = deliver
        self._registry = registry
        self._environments = environments
        self._owner = owner
        self._clock = clock
        self._lease_seconds = lease_seconds
        self._wake_outbox = wake_outbox
        # Claimed and being adopted by one loop; the others leave them alone.
        self.adopting: set[str] = set()
        # Executions the previous process died deciding (from the journal), until adopted.
        self.suspects: set[str] = set()

    async def recover(self, *, include_own: bool = True, limit: int = 100_000) -> list[str]:
        """Take unfinished executions (our own back, with ``include_own``; others' whose
        lease expired; pending ones nobody started) and carry out what they wait for."""
        ids = await self._committer.run_in_writer(
            lambda: self._store.claim_executions(
                LeaseClaim(self._owner, self._lease_seconds, limit, include_own),
                now=self._clock(),
            )
        )
        await self.adopt_all(ids)
        if ids:
            self._wake_outbox()
        return ids

    async def recover_own(self) -> list[str]:
        """Take back the unfinished executions this owner still holds (a restart under the
        same name), and nothing else."""
        ids = await self._committer.run_in_writer(
            lambda: self._store.renew_leases(
                self._owner, now=self._clock(), lease_seconds=self._lease_seconds
            )
        )
        await self.adopt_all(ids)
        if ids:
            self._wake_outbox()
        return ids

    async def adopt_all(self, ids: list[str]) -> None:
        """Adopt what another loop is not adopting already (reading the store in between
        lets two loops find the same execution not live yet, and both would run it)."""
        mine = [i for i in ids if i not in self.adopting and i not in self._held]
        self.adopting.update(mine)
        try:
            if mine:
                loaded = await self._committer.run_in_writer(self._store.load_executions, mine)
                await self._count_crashes(loaded)
                for record, data in loaded:
                    with contextlib.suppress(UnknownExecution):
                        self._adopt_loaded(record, data)
        finally:  # those left by a failure are adopted by ``LeaseKeeper.renew``
            self.adopting.difference_update(mine)

    async def _count_crashes(self, loaded: Loaded) -> None:
        """Count, durably, a death of the previous process in the state of each execution it
        died deciding, before any of them is decided again. Rewrites ``loaded`` in place."""
        counted = []
        for index, (record, data) in enumerate(loaded):
            if record.id not in self.suspects or record.status in FINAL_STATUSES:
                continue
            self.suspects.discard(record.id)
            if data is None:  # it died deciding its start: keep the count in a first state
                data = new_state(record.id).to_json()
            data["crashes"] = (data.get("crashes") or 0) + 1
            loaded[index] = (record, data)
            counted.append(
                Checkpoint(record.id, record.status, data, self._clock(), owner=self._owner)
            )
            log.warning(
                "the process stopped while deciding execution %s (%d time(s))",
                record.id,
                data["crashes"],
            )
        await asyncio.gather(*(self._committer.commit(checkpoint) for checkpoint in counted))

    def _adopt_loaded(self, record: ExecutionRecord, data: dict[str, Any] | None) -> None:
        execution_id = record.id
        if record.status in FINAL_STATUSES or execution_id in self._held:
            return  # it ended here after it was claimed, or was adopted meanwhile
        workflow = self._registry.of_execution(record.workflow_id)
        gone: list[str] = []
        state = None
        if data is not None:
            state = ExecutionState.from_json(self._environments.open_sealed(workflow, data, gone))
        if state is None or state.status == PENDING:  # submitted, never started: start it
            state = state or new_state(execution_id)
            state.limits = workflow.limits
            live = LiveExecution(workflow, state)
            self._held[execution_id] = live
            if not self._quarantined(live):
                self._deliver(execution_id, Start(record.input))
            return
        live = LiveExecution(workflow, state)
        self._held[execution_id] = live
        if self._quarantined(live) or self._lost_secrets(live, gone):
            return
        self._redispatch(live)
        if state.has_pending_work:  # a turn left work when the process stopped
            self._deliver(execution_id, Continue())

    def _quarantined(self, live: LiveExecution) -> bool:
        """Fault an execution the process died deciding too many times, instead of running
        it; its effects are not carried out again."""
        state = live.state
        if state.crashes < QUARANTINE_AFTER:
            return False
        _mirror(live)
        detail = (
            f"the process stopped {state.crashes} times while deciding this execution "
            "(killed, out of memory or crashed); it is not run again"
        )
        self._deliver(live.id, Abort(quarantine_error(detail, instance=state.current_task())))
        return True

    def _lost_secrets(self, live: LiveExecution, gone: list[str]) -> bool:
        """Fault an execution whose saved state refers to secrets no longer supplied,
        rather than carry out its calls with masked credentials."""
        if not gone:
            return False
        _mirror(live)
        names = ", ".join(f"`{name}`" for name in sorted(set(gone)))
        detail = f"the execution's saved state uses secrets no longer supplied: {names}"
        self._deliver(live.id, Abort(errors.error(errors.AUTHORIZATION, detail)))
        return True

    def _redispatch(self, live: LiveExecution) -> None:
        _mirror(live)
        for effect in live.state.effects.values():
            self._dispatcher.dispatch(live, effect.command)
        # Signals deferred while suspended stay in the state: the engine replays them on resume.


def _mirror(live: LiveExecution) -> None:
    """What the store's timer and subscription tables hold for ``live``."""
    state = live.state
    live.timers = {k for k, e in state.effects.items() if e.command.kind == StartTimer.kind}
    live.subscriptions = {k for k, e in state.effects.items() if e.command.kind == Subscribe.kind}
