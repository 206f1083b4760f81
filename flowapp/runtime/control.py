"""Control of executions by their users: cancel, suspend, resume, and retry from the task
that failed.

A control signal goes straight into the inbox of an execution this process holds;
for one held elsewhere (or by nobody for now) it is queued in the store, where whoever
holds the execution picks it up (``signal_polling.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass, field

from flowapp.engine.signals import Cancel, Resume, RetryFailed, Signal, Suspend, signal_to_json
from flowapp.engine.state import COMPLETED, FAULTED, SKIPPED, ExecutionState
from flowapp.runtime.committer import GroupCommitter
from flowapp.runtime.environments import Environments
from flowapp.runtime.executions import LiveExecutions
from flowapp.runtime.live import LiveExecution
from flowapp.runtime.outcome import UnknownExecution
from flowapp.runtime.registry import LoadedWorkflow, WorkflowRegistry
from flowapp.store.port import ExecutionRecord, LeaseLost, Store

Deliver = Callable[[str, Signal], bool]
Revive = Callable[[LiveExecution, Signal], Awaitable[None]]


@dataclass(eq=False)
class Control:
    store: Store
    committer: GroupCommitter
    executions: LiveExecutions
    _: KW_ONLY
    deliver: Deliver
    revive: Revive
    registry: WorkflowRegistry
    environments: Environments
    clock: Callable[[], float]
    owner: str
    lease_seconds: float
    _retrying: set[str] = field(default_factory=set, init=False)

    async def send(self, execution_id: str, signal: Signal) -> None:
        """Signal an execution wherever it is held (through the store if not here)."""
        if self.deliver(execution_id, signal):
            return
        if await self.executions.record(execution_id) is None:
            raise UnknownExecution(execution_id)
        payload = signal_to_json(signal)
        await self.committer.run_in_writer(
            lambda: self.store.send_signal(execution_id, payload, now=self.clock())
        )

    async def cancel(self, execution_id: str, reason: str = "cancelled by request") -> None:
        await self.send(execution_id, Cancel(reason))

    async def suspend(self, execution_id: str) -> None:
        await self.send(execution_id, Suspend())

    async def resume(self, execution_id: str) -> None:
        await self.send(execution_id, Resume())

    async def retry(self, execution_id: str, workflow: LoadedWorkflow | None = None) -> None:
        """Run a faulted execution again from the task that failed: the tasks that
        completed (or were skipped) are not run again: their outputs are replayed by
        occurrence.

        ``workflow``: go on with this workflow instead of the execution's own (a newer
        revision of its app, whose document still has every completed task at the same
        place; the caller checks that). Task runs from then on name its revision."""
        # Until this retry is committed the store still says faulted: a second retry
        # reading it meanwhile would run the failed task again. Here the set of retries
        # in progress refuses it; in another process, the lease the first one took.
        if execution_id in self._retrying:
            raise ValueError(f"execution {execution_id} is being retried already")
        self._retrying.add(execution_id)
        try:
            record = await self.executions.record(execution_id)
            if record is None:
                raise UnknownExecution(execution_id)
            if record.status != FAULTED:
                raise ValueError(f"execution {execution_id} is {record.status}, not faulted")
            await self._lease(record)
            state = await self._load(record)  # read once held: the fault this retry took
            runs = await self.committer.run_in_writer(self.store.task_runs, execution_id)
            done = (COMPLETED, SKIPPED)
            memo = {run.occurrence: run.output for run in runs if run.status in done}
            own = self.registry.of_execution(record.workflow_id)
            live = LiveExecution(workflow or own, state, moved=(workflow or own).id != own.id)
            try:
                await self.revive(live, RetryFailed(memo))
            except LeaseLost:
                raise ValueError(f"execution {execution_id} is being retried already") from None
        finally:
            self._retrying.discard(execution_id)

    async def _lease(self, record: ExecutionRecord) -> None:
        """Hold the execution before retrying it: its first commit must find this
        process holding the lease, whichever process it faulted in."""
        lease_until = self.clock() + self.lease_seconds
        taken = await self.committer.run_in_writer(
            lambda: self.store.lease_for_retry(
                record.id, seen_owner=record.owner, owner=self.owner, lease_until=lease_until
            )
        )
        if not taken:
            raise ValueError(f"execution {record.id} is being retried already")

    async def _load(self, record: ExecutionRecord) -> ExecutionState:
        data = await self.committer.run_in_writer(self.store.load_state, record.id)
        if data is None:
            raise UnknownExecution(record.id)
        workflow = self.registry.of_execution(record.workflow_id)
        opened = self.environments.open_sealed(workflow, data, [])
        return ExecutionState.from_json(opened)
