"""Executions in ``FakePlatform``: run on the pure engine, played back in real time.

An invocation runs the workflow at once on the engine's simulator
(``flowapp.engine.testing.simulate``: virtual time, no I/O), which says how it ends and
how long it takes in workflow time (``wait: PT2S`` takes two seconds). The outcome is
then *played back*: the execution is written to the execution store as running and
becomes final (status, output or error, task runs) when that much real time has passed.
An execution that takes no workflow time is final at once. So the API's reads see what a
real platform would show, and ``?wait=`` behaves as it should: a workflow that waits
longer than the caller is answered 202, one that ends in time with its outcome.

Function calls (``call: <function>``) are answered by the callables given to the fake
(the input echoed back by default; raise ``FunctionFailed`` to fail one); HTTP and other
calls fail with a communication error, since the fake does no I/O.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from flowapp.dsl.build import build_workflow
from flowapp.dsl.errors import COMMUNICATION, error
from flowapp.engine.commands import CallFunction
from flowapp.engine.testing import SimulatedFailure, Simulation, simulate
from flowapp.runtime.ids import new_execution_id
from flowapp.runtime.live import task_run_record
from flowapp.server.platform import (
    Conflict,
    InvocationResult,
    NotFound,
    RerunStarted,
    RetryStarted,
)
from flowapp.store.port import Checkpoint, ExecutionRecord, Store, WorkflowRecord
from flowapp.store.rules import FINAL_STATUSES

FunctionHandler = Callable[[Any], Any]
LogSink = Callable[[str, str, str, str], None]  # app, function, execution id, message


class FunctionFailed(SimulatedFailure):
    """Raise from a fake function to fail its call with this RFC 7807 error."""


@dataclass(slots=True)
class _Playback:
    """An execution whose outcome is known but not due yet."""

    simulation: Simulation
    due_at: float  # loop time at which it becomes final
    handle: asyncio.TimerHandle | None = None
    remaining: float = 0.0  # while suspended


@dataclass(frozen=True, slots=True)
class RunSpec:
    """What an execution runs: the app's workflow on one revision."""

    app: str
    revision: str
    workflow: dict[str, Any]
    functions: frozenset[str]


class FakeRuns:
    def __init__(
        self,
        store: Store,
        *,
        functions: dict[str, FunctionHandler],
        clock: Callable[[], float],
        log: LogSink,
    ) -> None:
        self.store = store
        self.functions = functions
        self.clock = clock
        self.log = log
        self.playing: dict[str, _Playback] = {}

    # --- starting -----------------------------------------------------------------------

    async def start(
        self,
        spec: RunSpec,
        input: Any,
        *,
        wait: float | None,
        dedupe_key: str | None = None,
        rerun_of: str | None = None,
    ) -> InvocationResult:
        if dedupe_key is not None and (found := self.store.find_by_dedupe_key(dedupe_key)):
            return _result(found)
        now = self.clock()
        execution_id = new_execution_id(now)
        simulation = self._simulate(spec, execution_id, input, now)
        duration = simulation.now - now
        record = self._create(spec, execution_id, input, now, dedupe_key, rerun_of)
        if simulation.state.is_final and duration <= (wait or 0.0):
            await asyncio.sleep(duration)
            self._finish(execution_id, simulation)
        else:
            self._play(execution_id, simulation, duration)
            if wait:
                await self._wait(execution_id, wait)
        return _result(self.store.get_execution(execution_id) or record)

    def _simulate(self, spec: RunSpec, execution_id: str, input: Any, now: float) -> Simulation:
        workflow = build_workflow(spec.workflow, app_functions=spec.functions)

        def call(command: CallFunction) -> Any:
            self.log(spec.app, command.function, execution_id, f"called ({command.kind})")
            handler = self.functions.get(command.function, _echo)
            return handler(command.data)

        return simulate(workflow, input, functions=call, http=_no_io, start=now)

    def _create(
        self,
        spec: RunSpec,
        execution_id: str,
        input: Any,
        now: float,
        dedupe_key: str | None,
        rerun_of: str | None,
    ) -> ExecutionRecord:
        workflow = self._save_workflow(spec, now)
        record = ExecutionRecord(
            id=execution_id,
            workflow_id=workflow.id,
            status="running",
            input=input,
            created_at=now,
            started_at=now,
            updated_at=now,
            app=spec.app,
            revision=spec.revision,
            dedupe_key=dedupe_key,
            rerun_of=rerun_of,
        )
        checkpoint = Checkpoint(execution_id, "running", None, now, started_at=now)
        self.store.create_execution(record, checkpoint)
        return record

    def _save_workflow(self, spec: RunSpec, now: float) -> WorkflowRecord:
        document = spec.workflow["document"]
        digest = hashlib.sha256(orjson.dumps(spec.workflow, option=orjson.OPT_SORT_KEYS))
        record = WorkflowRecord(
            id=digest.hexdigest()[:32],
            namespace=str(document.get("namespace", "default")),
            name=str(document.get("name", spec.app)),
            version=str(document.get("version", "0.0.0")),
            document=spec.workflow,
            app=spec.app,
            revision=spec.revision,
            created_at=now,
            functions=tuple(sorted(spec.functions)),
        )
        self.store.save_workflow(record)
        return record

    # --- playing back -------------------------------------------------------------------

    def _play(self, execution_id: str, simulation: Simulation, duration: float) -> None:
        loop = asyncio.get_running_loop()
        playback = _Playback(simulation, loop.time() + duration)
        if simulation.state.is_final:  # else it waits for an event that never comes
            playback.handle = loop.call_later(duration, self._finish, execution_id, simulation)
        self.playing[execution_id] = playback

    async def _wait(self, execution_id: str, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while execution_id in self.playing and loop.time() < deadline:
            await asyncio.sleep(min(0.01, max(0.0, deadline - loop.time())))

    def _finish(self, execution_id: str, simulation: Simulation) -> None:
        self.playing.pop(execution_id, None)
        state = simulation.state
        record = self.store.get_execution(execution_id)
        revision = record.revision if record is not None else None
        runs = [
            task_run_record(execution_id, run, revision=revision) for run in simulation.task_runs()
        ]
        checkpoint = Checkpoint(
            execution_id,
            state.status,
            None,
            simulation.now,
            output=state.output,
            error=state.error,
            ended_at=simulation.now,
            task_runs=runs,
        )
        self.store.commit([checkpoint])

    def _set_status(self, execution_id: str, status: str, *, ended: bool = False) -> None:
        now = self.clock()
        checkpoint = Checkpoint(execution_id, status, None, now, ended_at=now if ended else None)
        self.store.commit([checkpoint])

    # --- control ------------------------------------------------------------------------

    def require(self, execution_id: str) -> ExecutionRecord:
        record = self.store.get_execution(execution_id)
        if record is None:
            raise NotFound(f"no execution {execution_id}")
        return record

    def cancel(self, execution_id: str) -> None:
        record = self._unfinished(execution_id, "cancelled")
        playback = self.playing.pop(record.id, None)
        if playback and playback.handle:
            playback.handle.cancel()
        self._set_status(record.id, "cancelled", ended=True)

    def suspend(self, execution_id: str) -> None:
        record = self._unfinished(execution_id, "suspended")
        playback = self.playing.get(record.id)
        if playback is None or record.status == "suspended":
            raise Conflict(f"execution {execution_id} is {record.status}: it cannot be suspended")
        if playback.handle:
            playback.handle.cancel()
            playback.remaining = max(0.0, playback.due_at - asyncio.get_running_loop().time())
        self._set_status(record.id, "suspended")

    def resume(self, execution_id: str) -> None:
        record = self.require(execution_id)
        playback = self.playing.pop(record.id, None)
        if record.status != "suspended" or playback is None:
            raise Conflict(f"execution {execution_id} is {record.status}, not suspended")
        self._set_status(record.id, "running")
        self._play(record.id, playback.simulation, playback.remaining)

    def retry(self, execution_id: str) -> RetryStarted:
        """The whole workflow again under the same id (the fake keeps no task state),
        on the execution's own revision."""
        record = self.require(execution_id)
        if record.status != "faulted":
            raise Conflict(f"execution {execution_id} is {record.status}; only faulted ones retry")
        now = self.clock()
        simulation = self._simulate(self._spec_of(record), record.id, record.input, now)
        self._set_status(record.id, "running")
        self._play(record.id, simulation, simulation.now - now)
        return RetryStarted(record.id, record.revision, record.revision)

    async def rerun(
        self, execution_id: str, *, replace_input: bool = False, input: Any = None
    ) -> RerunStarted:
        record = self.require(execution_id)
        spec = self._spec_of(record)
        value = input if replace_input else record.input
        started = await self.start(spec, value, wait=None, rerun_of=record.id)
        return RerunStarted(started.id, record.id, spec.revision or None)

    def _spec_of(self, record: ExecutionRecord) -> RunSpec:
        workflow = self.store.get_workflow(record.workflow_id)
        if workflow is None:
            raise Conflict(f"the workflow of execution {record.id} is gone")
        app = record.app or workflow.app or workflow.name
        revision = record.revision or workflow.revision or ""
        return RunSpec(app, revision, workflow.document, frozenset(workflow.functions))

    def _unfinished(self, execution_id: str, verb: str) -> ExecutionRecord:
        record = self.require(execution_id)
        if record.status in FINAL_STATUSES:
            raise Conflict(f"execution {execution_id} is {record.status}: it cannot be {verb}")
        return record


def _result(record: ExecutionRecord) -> InvocationResult:
    return InvocationResult(record.id, record.status, record.output, record.error)


def _echo(data: Any) -> Any:
    return data


def _no_io(command: Any) -> Any:
    detail = f"the fake platform makes no calls ({command.kind})"
    raise SimulatedFailure(error(COMMUNICATION, detail, status=503))
