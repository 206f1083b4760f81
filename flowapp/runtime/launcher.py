"""Starting executions: at once (``start_execution``), for whichever engine process claims
it first (``submit``), as a sub-workflow of a task (``run_child``), or again with the
same input (``rerun``).

Every execution record is made by ``execution_record``: a started one is held by this
process under a lease from its first commit; a submitted one is ``pending`` and held by
nobody until an engine claims it (``recovery.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flowapp.dsl import errors
from flowapp.engine import new_state
from flowapp.engine.commands import StartWorkflow
from flowapp.engine.signals import Start
from flowapp.engine.state import COMPLETED
from flowapp.functions.tracecontext import CURRENT as CURRENT_TRACE
from flowapp.functions.tracecontext import inbound_traceparent
from flowapp.runtime import logcontext
from flowapp.runtime.committer import GroupCommitter
from flowapp.runtime.effects.base import EffectError
from flowapp.runtime.executions import LiveExecutions
from flowapp.runtime.ids import new_execution_id
from flowapp.runtime.limits import Limits
from flowapp.runtime.live import LiveExecution
from flowapp.runtime.outcome import UnknownExecution
from flowapp.runtime.pump import Pump
from flowapp.runtime.registry import LoadedWorkflow, WorkflowRegistry
from flowapp.store.port import Checkpoint, DuplicateExecution, ExecutionRecord

if TYPE_CHECKING:
    from flowapp.runtime.tracing import Tracing

PENDING = "pending"


def execution_record(
    execution_id: str,
    workflow: LoadedWorkflow,
    input: Any,
    *,
    status: str,
    now: float,
    app: str | None = None,
    revision: str | None = None,
    dedupe_key: str | None = None,
    parent_id: str | None = None,
    rerun_of: str | None = None,
    owner: str | None = None,
    lease_seconds: float = 0.0,
) -> ExecutionRecord:
    """The record of a new execution: started now and leased to ``owner`` when there is
    one, else pending. ``app`` and ``revision`` default to the workflow's."""
    started = owner is not None
    return ExecutionRecord(
        id=execution_id,
        workflow_id=workflow.id,
        status=status,
        input=input,
        created_at=now,
        started_at=now if started else None,
        app=app or workflow.app,
        revision=revision or workflow.revision,
        dedupe_key=dedupe_key,
        parent_id=parent_id,
        rerun_of=rerun_of,
        owner=owner,
        lease_until=now + lease_seconds if started else None,
    )


class Launcher:
    def __init__(
        self,
        pump: Pump,
        executions: LiveExecutions,
        committer: GroupCommitter,
        *,
        registry: WorkflowRegistry,
        limits: Limits,
        owner: str,
        clock: Callable[[], float],
        lease_seconds: float,
        tracing: Tracing | None = None,
    ) -> None:
        self._pump = pump
        self._executions = executions
        self._committer = committer
        self._registry = registry
        self._limits = limits
        self._owner = owner
        self._clock = clock
        self._lease_seconds = lease_seconds
        self._tracing = tracing

    async def start_execution(
        self,
        workflow: LoadedWorkflow,
        input: Any,
        *,
        app: str | None = None,
        revision: str | None = None,
        dedupe_key: str | None = None,
        parent_id: str | None = None,
        rerun_of: str | None = None,
    ) -> str:
        """Create an execution durably and start it; returns its id. Raises
        ``PayloadTooLarge`` for an input over the limit, ``DuplicateExecution`` when the
        dedupe key is taken."""
        self._limits.check_input(input)
        now = self._clock()
        execution_id = new_execution_id(now)
        live = LiveExecution(workflow, new_state(execution_id, workflow.limits))
        if self._tracing is not None or logcontext.enabled():
            # Started inside a trace (a request, a parent's task): the execution joins it.
            live.state.trace = inbound_traceparent(CURRENT_TRACE.get())

        def record_of(status: str) -> ExecutionRecord:
            return execution_record(
                execution_id,
                workflow,
                input,
                status=status,
                now=now,
                app=app,
                revision=revision,
                dedupe_key=dedupe_key,
                parent_id=parent_id,
                rerun_of=rerun_of,
                owner=self._owner,
                lease_seconds=self._lease_seconds,
            )

        await self._pump.begin(live, Start(input), now, record_of)
        return execution_id

    async def submit(
        self,
        workflow: LoadedWorkflow,
        input: Any,
        *,
        app: str | None = None,
        revision: str | None = None,
        dedupe_key: str | None = None,
    ) -> str:
        """Record a pending execution for whichever engine process claims it first."""
        self._limits.check_input(input)
        now = self._clock()
        execution_id = new_execution_id(now)
        record = execution_record(
            execution_id,
            workflow,
            input,
            status=PENDING,
            now=now,
            app=app,
            revision=revision,
            dedupe_key=dedupe_key,
        )
        checkpoint = Checkpoint(
            execution_id=execution_id, status=PENDING, state=None, updated_at=now
        )
        await self._committer.create(record, checkpoint)
        return execution_id

    async def rerun(
        self,
        execution_id: str,
        workflow: LoadedWorkflow | None = None,
        *,
        replace_input: bool = False,
        input: Any = None,
    ) -> str:
        """Start a new execution with the same input (or ``input``, with
        ``replace_input``), of the same workflow or of ``workflow`` (the app's revision
        that serves now)."""
        record = await self._executions.record(execution_id)
        if record is None:
            raise UnknownExecution(execution_id)
        chosen = workflow or self._registry.of_execution(record.workflow_id)
        return await self.start_execution(
            chosen,
            input if replace_input else record.input,
            app=record.app,
            revision=chosen.revision if workflow is not None else record.revision,
            rerun_of=execution_id,
        )

    async def run_child(self, command: StartWorkflow, *, wait: bool = True) -> Any:
        """Start the sub-workflow a task asks for (once: its key is the task's effect) in
        the parent's app, and with ``wait``, its output once it completes."""
        app = await self._executions.app_of(command.parent_execution_id)
        workflow = self._registry.find(command.namespace, command.name, command.version, app=app)
        if workflow is None:
            detail = f"no workflow {command.namespace}/{command.name}:{command.version} is known"
            if app is not None:
                detail += f" in app {app}"
            raise EffectError(errors.error(errors.CONFIGURATION, detail))
        key = f"{command.parent_execution_id}/{command.effect_id}"
        try:
            child_id = await self.start_execution(
                workflow, command.input, parent_id=command.parent_execution_id, dedupe_key=key
            )
        except DuplicateExecution as duplicate:
            child_id = duplicate.existing_id
        if not wait:
            return None
        outcome = await self._executions.wait_for(child_id)
        if outcome.status == COMPLETED:
            return outcome.output
        raise EffectError(
            outcome.error or errors.error(errors.RUNTIME, f"sub-workflow {outcome.status}")
        )
