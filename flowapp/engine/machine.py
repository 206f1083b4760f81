"""The interpreter: runs task instances (frames) until every one of them waits or ends.

This is the one larger module of the engine; it holds what every task kind shares:
- the task envelope from the spec's data flow: ``if``, input schema and ``input.from``,
  the kind's own work, ``output.as`` and its schema, ``export.as`` and its schema;
- the life of frames: start, complete (with a flow directive), fault, cancel, timeouts;
- effects: issuing a command that a later signal answers, and cancelling it;
- task run records for every frame that starts and ends.

Work is queued, not recursed: a thousand ``set`` tasks in a row complete one after the
other from the queue, so the Python stack stays flat, and a decision can stop after a
number of steps and leave the rest for later (``agenda``). Nothing here does I/O or reads
a clock: ``now`` comes from the caller and every id comes from the state's counter.
"""

from __future__ import annotations

import sys
from collections import deque
from typing import Any, Protocol

from flowapp.dsl import errors
from flowapp.dsl.durations import DurationError, duration_seconds
from flowapp.dsl.expressions import ExpressionError, Template, truthy
from flowapp.dsl.model import DurationSpec, SchemaSpec, Task, Workflow
from flowapp.engine.agenda import COMPLETED as COMPLETED_ENTRY
from flowapp.engine.agenda import ENTER
from flowapp.engine.agenda import FAULTED as FAULTED_ENTRY
from flowapp.engine.commands import CancelEffect, Command, StartTimer
from flowapp.engine.limits import LimitExceeded, limit_error
from flowapp.engine.records import TaskRun, Transition
from flowapp.engine.schemas import schema_problems
from flowapp.engine.scope import Environment, FrameScope, datetime_descriptor
from flowapp.engine.signals import Signal
from flowapp.engine.state import COMPLETED, FAULTED, SKIPPED, Effect, ExecutionState, Frame

CONTINUE, EXIT, END = "continue", "exit", "end"


class TaskFault(Exception):
    """Raised inside the machine to fault the current task with ``error``; never escapes."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("detail") or error.get("title"))
        self.error = error


def expression_error(exc: ExpressionError, where: str) -> dict[str, Any]:
    """The error a failed expression faults its task with: an expression error (400), or
    an authorization error (403) when it reads a secret that was not supplied."""
    return errors.error(exc.kind, exc.message, instance=where)


class Handler(Protocol):
    """How one kind of task runs. Only ``start`` is required of every kind; the others are
    called for kinds that have children, effects or events."""

    def start(self, m: Machine, task: Any, frame: Frame) -> None: ...

    def on_child_completed(
        self, m: Machine, frame: Frame, child: Frame, output: Any, then: str
    ) -> None: ...

    def on_child_faulted(
        self, m: Machine, frame: Frame, child: Frame, error: dict[str, Any]
    ) -> None: ...

    def on_result(self, m: Machine, frame: Frame, effect: Effect, result: Any) -> None: ...

    def on_failure(
        self, m: Machine, frame: Frame, effect: Effect, error: dict[str, Any]
    ) -> None: ...

    def on_timer(self, m: Machine, frame: Frame, effect: Effect) -> None: ...

    def on_event(self, m: Machine, frame: Frame, effect: Effect, event: dict[str, Any]) -> None: ...


class Handlers(Protocol):
    def for_task(self, task: Task) -> Handler: ...

    def for_frame(self, m: Machine, frame: Frame) -> Handler: ...


class Machine:
    def __init__(
        self,
        workflow: Workflow,
        state: ExecutionState,
        now: float,
        env: Environment,
        handlers: Handlers,
        budget: int | None = None,
    ) -> None:
        self.handlers = handlers
        self.workflow = workflow
        self.state = state
        self.now = now
        self.env = env
        self.commands: list[Command] = []
        self.runs: dict[int, TaskRun] = {}
        self.transitions: list[Transition] = []
        self.queue: deque[tuple[Any, ...]] = deque()  # work entries, see ``agenda``
        self.signals: deque[Signal] = deque()
        self.steps = 0
        self.budget = sys.maxsize if budget is None else budget
        self._workflow_descriptor: dict[str, Any] | None = None

    # --- running ------------------------------------------------------------------------

    def step(self) -> None:
        """Run the next entry of the queue (one step of the decision's budget)."""
        entry = self.queue.popleft()
        kind, frame = entry[0], entry[1]
        if kind == ENTER:
            self.enter(entry[2], frame)
        elif not self.is_live(frame):
            return  # the parent ended meanwhile: nobody is left to tell
        elif kind == COMPLETED_ENTRY:
            handler = self.handlers.for_frame(self, frame)
            handler.on_child_completed(self, frame, entry[2], entry[3], entry[4])
        else:
            self.handlers.for_frame(self, frame).on_child_faulted(self, frame, entry[2], entry[3])

    def is_live(self, frame: Frame) -> bool:
        return self.state.frames.get(frame.id) is frame

    def set_status(self, status: str) -> None:
        if self.state.status != status:
            self.state.status = status
            self.transitions.append(Transition(status, self.now))

    # --- expressions --------------------------------------------------------------------

    def scope(self, frame: Frame | None, task: Task | None, **extra: Any) -> FrameScope:
        return FrameScope(self, frame, task, extra or None)

    def render(self, template: Template, value: Any, scope: FrameScope, where: str) -> Any:
        """Evaluate a template; a failing expression faults the task (status 400)."""
        try:
            return template.render(value, scope)
        except ExpressionError as exc:
            raise TaskFault(expression_error(exc, where)) from None

    def workflow_descriptor(self) -> dict[str, Any]:
        if self._workflow_descriptor is None:
            self._workflow_descriptor = {
                "id": self.state.execution_id,
                "definition": self.workflow.definition,
                "input": self.state.input,
                "startedAt": datetime_descriptor(self.state.started_at),
            }
        return self._workflow_descriptor

    def secrets(self) -> dict[str, Any]:
        available = self.env.secrets
        return {name: available[name] for name in self.workflow.secrets if name in available}

    def seconds(self, spec: DurationSpec, frame: Frame | None, task: Task | None) -> float:
        if spec.seconds is not None:
            return spec.seconds
        assert spec.expression is not None  # the builder sets one of the two
        where = task.reference if task else "/"
        value = self.render(
            spec.expression, frame.input if frame else None, self.scope(frame, task), where
        )
        try:
            return duration_seconds(value)
        except DurationError as exc:
            raise TaskFault(errors.error(errors.EXPRESSION, str(exc), instance=where)) from None

    def validate(self, schema: SchemaSpec | None, value: Any, where: str, what: str) -> None:
        if schema is None:
            return
        problems = schema_problems(schema, value)
        if problems:
            detail = f"{what} does not match its schema: " + "; ".join(problems)
            raise TaskFault(errors.error(errors.VALIDATION, detail, instance=where))

    # --- effects ------------------------------------------------------------------------

    def new_effect_id(self) -> str:
        return f"e{self.state.next_id()}"

    def issue(self, frame: Frame, command: Command, purpose: str = "") -> None:
        self.state.effects[command.effect_id] = Effect(frame.id, command, purpose)
        self.commands.append(command)

    def start_timer(self, frame: Frame, seconds: float, purpose: str) -> str:
        effect_id = self.new_effect_id()
        self.issue(frame, StartTimer(effect_id=effect_id, due_at=self.now + seconds), purpose)
        return effect_id

    def drop_effect(self, effect_id: str, *, cancel: bool) -> None:
        effect = self.state.effects.pop(effect_id, None)
        if effect is not None and cancel:
            self.commands.append(
                CancelEffect(effect_id=effect_id, cancelled_kind=effect.command.kind)
            )

    def effects_of(self, frame: Frame) -> list[str]:
        return [key for key, effect in self.state.effects.items() if effect.frame == frame.id]

    # --- frames -------------------------------------------------------------------------

    def children(self, frame: Frame) -> list[Frame]:
        return [child for child in self.state.frames.values() if child.parent == frame.id]

    def start_task(
        self,
        task: Task,
        parent: Frame,
        raw_input: Any,
        *,
        vars: dict[str, Any] | None = None,
        prefix: str | None = None,
    ) -> Frame:
        """Create the frame of a child task and queue its start."""
        base = parent.occurrence if prefix is None else prefix
        relative = task.reference[len(parent.reference) :] if parent.reference else task.reference
        frame = Frame(
            id=self.state.next_id(),
            parent=parent.id,
            reference=task.reference,
            occurrence=base + relative,
            raw_input=raw_input,
            vars=vars if vars is not None else parent.vars,
            attempt=parent.data.get("attempt", parent.attempt),
            started_at=self.now,
        )
        frame.quiet = parent.quiet
        self.state.frames[frame.id] = frame
        self.queue.append((ENTER, frame, task))
        return frame

    def enter(self, task: Task, frame: Frame) -> None:
        if frame.id not in self.state.frames:
            return  # cancelled before it started
        handler = self.handlers.for_task(task)
        remembered = bool(self.state.memo) and frame.occurrence in self.state.memo
        if remembered:
            # A retry of a faulted execution: this task completed (or was skipped) before.
            # Tasks with effects reuse their output; pure ones run again (deterministically)
            # but quietly, so that no task run is recorded twice.
            frame.quiet = True
        try:
            if task.if_ is not None:
                scope = self.scope(frame, task)
                if not truthy(self.render_expression(task, frame, scope)):
                    self.skip(task, frame)
                    return
            if remembered and getattr(handler, "replayable", False):
                self.replay(task, frame, self.state.memo[frame.occurrence])
                return
            self.record_start(task, frame)
            if task.input is not None:
                self.validate(task.input.schema, frame.raw_input, task.reference, "task input")
                if task.input.from_ is not None:
                    frame.input = self.render(
                        task.input.from_, frame.raw_input, self.scope(frame, task), task.reference
                    )
                    if frame.run in self.runs:
                        self.runs[frame.run].input = frame.input
            if task.timeout is not None:
                seconds = self.seconds(task.timeout, frame, task)
                frame.timer = self.start_timer(frame, seconds, "timeout")
            handler.start(self, task, frame)
        except TaskFault as fault:
            self.fault(frame, fault.error)

    def replay(self, task: Task, frame: Frame, output: Any) -> None:
        try:
            if task.input is not None and task.input.from_ is not None:
                scope = self.scope(frame, task)
                frame.input = self.render(task.input.from_, frame.raw_input, scope, task.reference)
            if task.export is not None and task.export.as_ is not None:
                scope = self.scope(frame, task, output=output)
                self.state.context = self.render(task.export.as_, output, scope, task.reference)
        except TaskFault as fault:
            self.fault(frame, fault.error)
            return
        self.release(frame)
        self.notify_completed(frame, task, output, task.then or CONTINUE)

    def render_expression(self, task: Task, frame: Frame, scope: FrameScope) -> Any:
        assert task.if_ is not None
        try:
            return task.if_.evaluate(frame.raw_input, scope)
        except ExpressionError as exc:
            raise TaskFault(expression_error(exc, task.reference)) from None

    def skip(self, task: Task, frame: Frame) -> None:
        """A task whose ``if`` is false: its raw input becomes its output, and its run is
        recorded as skipped, so that the history says why it did nothing."""
        self.record_skip(task, frame)
        del self.state.frames[frame.id]
        self.notify_completed(frame, task, frame.raw_input, CONTINUE)

    def complete(self, frame: Frame, raw_output: Any, then: str | None = None) -> None:
        """The task produced ``raw_output``: transform, validate, export, then move on."""
        if frame.id not in self.state.frames:
            return
        task = self.workflow.task(frame.reference)
        try:
            output = self.transform_output(task, frame, raw_output)
        except TaskFault as fault:
            self.fault(frame, fault.error)
            return
        self.record_end(frame, "completed", output=output)
        self.release(frame)
        self.notify_completed(frame, task, output, then or task.then or CONTINUE)

    def transform_output(self, task: Task, frame: Frame, raw_output: Any) -> Any:
        output = raw_output
        if task.output is not None:
            if task.output.as_ is not None:
                scope = self.scope(frame, task, __raw_output=raw_output)
                output = self.render(task.output.as_, raw_output, scope, task.reference)
            self.validate(task.output.schema, output, task.reference, "task output")
        if task.export is not None:
            if task.export.as_ is not None:
                scope = self.scope(frame, task, output=output, __raw_output=raw_output)
                self.state.context = self.render(task.export.as_, output, scope, task.reference)
            self.validate(task.export.schema, self.state.context, task.reference, "context")
        return output

    def fault(self, frame: Frame, error: dict[str, Any]) -> None:
        if frame.id not in self.state.frames:
            return
        self.cancel_children(frame)
        self.record_end(frame, "faulted", error=error)
        self.release(frame)
        parent = self.state.frames.get(frame.parent) if frame.parent is not None else None
        if parent is not None:
            self.queue.append((FAULTED_ENTRY, parent, frame, error))

    def notify_completed(self, frame: Frame, task: Task, output: Any, then: str) -> None:
        parent = self.state.frames.get(frame.parent) if frame.parent is not None else None
        if parent is not None:
            self.queue.append((COMPLETED_ENTRY, parent, frame, output, then))

    def release(self, frame: Frame) -> None:
        """Forget a finished frame and whatever it still waited for."""
        for effect_id in self.effects_of(frame):
            self.drop_effect(effect_id, cancel=True)
        frame.timer = None
        self.state.frames.pop(frame.id, None)

    def cancel_children(self, frame: Frame) -> None:
        for child in self.children(frame):
            self.cancel(child)

    def cancel(self, frame: Frame) -> None:
        """Stop a frame and everything under it; its run ends as cancelled."""
        self.cancel_children(frame)
        self.record_end(frame, "cancelled")
        self.release(frame)

    # --- the execution as a whole -------------------------------------------------------

    def end_workflow(self, frame: Frame, output: Any) -> None:
        """``then: end`` in ``frame``'s list: the tasks around it complete, the rest stop."""
        frames = self.state.frames
        ancestors: list[Frame] = []
        current: Frame | None = frame
        while current is not None:
            ancestors.append(current)
            current = frames.get(current.parent) if current.parent is not None else None
        keep = {a.id for a in ancestors}
        for other in list(frames.values()):
            if other.id not in keep and other.id in frames:
                self.cancel(other)
        for ancestor in ancestors:
            if ancestor.id != self.state.root:
                self.record_end(ancestor, "completed", output=output)
                self.release(ancestor)
        self.finish_workflow(output)

    def finish_workflow(self, output: Any) -> None:
        spec = self.workflow.output
        try:
            if spec is not None and spec.as_ is not None:
                output = self.render(spec.as_, output, self.scope(None, None), "/")
            if spec is not None:
                self.validate(spec.schema, output, "/", "workflow output")
        except TaskFault as fault:
            self.fail_workflow(fault.error)
            return
        self.close_frames()
        self.state.output = output
        self.state.ended_at = self.now
        self.set_status(COMPLETED)

    def fail_workflow(self, error: dict[str, Any]) -> None:
        self.close_frames()
        self.state.error = error
        self.state.ended_at = self.now
        self.set_status(FAULTED)

    def close_frames(self) -> None:
        root = self.state.frames.get(self.state.root) if self.state.root is not None else None
        if root is not None:
            self.cancel(root)
        for effect_id in list(self.state.effects):
            self.drop_effect(effect_id, cancel=True)
        self.state.frames.clear()

    # --- task runs ----------------------------------------------------------------------

    def next_run_id(self, task: Task) -> int:
        """The id of one more task run, within the execution's limit (skipped runs are
        recorded, so they count too)."""
        limit = self.state.limits.task_runs
        if self.state.run_sequence >= limit:
            detail = (
                f"the execution has run {limit:,} tasks, its limit (taskRuns); "
                f"{task.reference} would be one more"
            )
            raise LimitExceeded(limit_error("taskRuns", detail, instance=task.reference))
        self.state.run_sequence += 1
        return self.state.run_sequence

    def record_start(self, task: Task, frame: Frame) -> None:
        if frame.quiet:
            return
        frame.run = self.next_run_id(task)
        parent = self.state.frames.get(frame.parent) if frame.parent is not None else None
        self.runs[frame.run] = TaskRun(
            id=frame.run,
            parent_id=parent.run if parent is not None and parent.run else None,
            reference=task.reference,
            occurrence=frame.occurrence,
            name=task.name,
            status="running",
            input=frame.input,
            attempt=frame.attempt,
            started_at=frame.started_at,
            retried=frame.attempt > 1,
            began=True,
        )

    def record_skip(self, task: Task, frame: Frame) -> None:
        """A run that starts and ends at once as ``skipped`` (no lifecycle event says a
        skipped task started: ``began`` stays false)."""
        if frame.quiet:
            return
        run_id = self.next_run_id(task)
        parent = self.state.frames.get(frame.parent) if frame.parent is not None else None
        self.runs[run_id] = TaskRun(
            id=run_id,
            parent_id=parent.run if parent is not None and parent.run else None,
            reference=task.reference,
            occurrence=frame.occurrence,
            name=task.name,
            status=SKIPPED,
            input=frame.raw_input,
            attempt=frame.attempt,
            started_at=frame.started_at,
            output=frame.raw_input,
            ended_at=self.now,
            retried=frame.attempt > 1,
        )

    def record_end(
        self, frame: Frame, status: str, *, output: Any = None, error: dict[str, Any] | None = None
    ) -> None:
        if frame.quiet or not frame.run:
            return
        run = self.runs.get(frame.run)
        if run is None:
            task = self.workflow.by_reference.get(frame.reference)
            run = TaskRun(
                id=frame.run,
                parent_id=None,
                reference=frame.reference,
                occurrence=frame.occurrence,
                name=task.name if task else frame.reference.rsplit("/", 1)[-1],
                status=status,
                input=frame.raw_input,
                attempt=frame.attempt,
                started_at=frame.started_at,
                retried=frame.attempt > 1,
            )
            parent = self.state.frames.get(frame.parent) if frame.parent is not None else None
            run.parent_id = parent.run if parent is not None and parent.run else None
            self.runs[frame.run] = run
        run.status = status
        run.input = frame.input
        run.output = output
        run.error = error
        run.ended_at = self.now
