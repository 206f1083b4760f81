"""``decide``: the engine's one entry point.

``decide(workflow, state, signal, now)`` applies one signal to an execution and runs
every task that can run without waiting for the outside world. It returns the new state,
the commands to carry out, the task runs that started or ended, and the status
transitions. It performs no I/O, never sleeps, never reads the clock, and never raises:
a bug inside the engine faults the execution with a runtime error instead. (The one
exception that escapes is ``MemoryError``: whoever runs the engine decides what running
out of memory means.)

With a ``budget``, a decision stops after that many steps (``agenda``): the work left is
saved in the state and ``state.has_pending_work`` tells the caller to decide a
``Continue`` later, so one execution cannot hold whoever decides it. Control signals
(cancel, suspend, resume, abort) take effect at once, before any work left; results and
events are applied after it, in order. Going over one of the execution's limits faults
the whole execution (``limits``).

Ownership: the state passed in is updated in place and returned; callers keep using the
returned one (the durable runtime saves it, with the commands, in one transaction).
"""

from __future__ import annotations

from typing import Any

from flowapp.dsl import errors
from flowapp.dsl.model import Workflow
from flowapp.engine import agenda
from flowapp.engine.commands import StartTimer, Subscribe
from flowapp.engine.handlers import HANDLERS, ROOT
from flowapp.engine.limits import DEFAULT_LIMITS, ExecutionLimits, LimitExceeded
from flowapp.engine.machine import Machine, TaskFault
from flowapp.engine.records import Decision
from flowapp.engine.scope import DEFAULT_ENVIRONMENT, Environment
from flowapp.engine.signals import (
    Abort,
    Cancel,
    Continue,
    EffectFailed,
    EffectSucceeded,
    EventArrived,
    Resume,
    RetryFailed,
    Signal,
    Start,
    Suspend,
    TimerFired,
    is_deferrable,
    signal_from_json,
    signal_to_json,
)
from flowapp.engine.state import (
    CANCELLED,
    FAULTED,
    RUNNING,
    SUSPENDED,
    WAITING,
    ExecutionState,
    Frame,
)

_WAITING_KINDS = frozenset({StartTimer.kind, Subscribe.kind})


def new_state(execution_id: str, limits: ExecutionLimits = DEFAULT_LIMITS) -> ExecutionState:
    return ExecutionState(execution_id=execution_id, limits=limits)


def decide(
    workflow: Workflow,
    state: ExecutionState,
    signal: Signal,
    now: float,
    env: Environment = DEFAULT_ENVIRONMENT,
    *,
    budget: int | None = None,
) -> Decision:
    m = Machine(workflow, state, now, env, HANDLERS, budget)
    if state.is_final and not (isinstance(signal, RetryFailed) and state.status == FAULTED):
        return Decision(state)
    if state.status == SUSPENDED and is_deferrable(signal):
        state.deferred.append(signal_to_json(signal))
        return Decision(state)
    try:
        if state.pending:
            agenda.restore(m, state.pending)
            state.pending = []
        if is_deferrable(signal):
            m.signals.append(signal)  # after the work left by earlier decisions
        else:
            apply(m, signal)
        if state.status != SUSPENDED:
            run(m)
    except LimitExceeded as exc:
        m.queue.clear()
        m.signals.clear()
        m.fail_workflow(exc.error)
    except MemoryError:
        raise
    except Exception as exc:  # a bug must fault one execution, not the runtime
        detail = f"internal engine error: {type(exc).__name__}: {exc}"
        m.queue.clear()
        m.signals.clear()
        m.fail_workflow(errors.error(errors.RUNTIME, detail))
    if not state.is_final and (m.queue or m.signals):
        state.pending = agenda.save(m)
    settle(m)
    return Decision(state, m.commands, list(m.runs.values()), m.transitions, m.steps)


def run(m: Machine) -> None:
    """Work first, then the next signal, until both are done or the budget is spent."""
    queue, signals = m.queue, m.signals
    while queue or signals:
        if m.steps >= m.budget:
            return
        m.steps += 1
        if queue:
            m.step()
        else:
            apply(m, signals.popleft())


def apply(m: Machine, signal: Signal) -> None:
    if isinstance(signal, Start):
        start(m, signal.input)
    elif isinstance(signal, (EffectSucceeded, EffectFailed, TimerFired, EventArrived)):
        answer(m, signal)
    elif isinstance(signal, Cancel):
        drop_agenda(m)
        m.close_frames()
        m.state.error = errors.error(errors.RUNTIME, signal.reason, title="Cancelled")
        m.state.ended_at = m.now
        m.set_status(CANCELLED)
    elif isinstance(signal, Abort):
        drop_agenda(m)
        m.fail_workflow(signal.error)
    elif isinstance(signal, Suspend):
        if m.state.status in (RUNNING, WAITING):
            m.set_status(SUSPENDED)
    elif isinstance(signal, Resume):
        resume(m)
    elif isinstance(signal, RetryFailed):
        retry(m, signal.memo)
    elif not isinstance(signal, Continue):
        raise TypeError(f"unknown signal {signal!r}")


def drop_agenda(m: Machine) -> None:
    m.queue.clear()
    m.signals.clear()


def start(m: Machine, raw_input: Any) -> None:
    state, workflow = m.state, m.workflow
    state.input = raw_input
    state.started_at = m.now
    state.context = {}
    m.set_status(RUNNING)
    try:
        value = raw_input
        if workflow.input is not None:
            m.validate(workflow.input.schema, raw_input, "/", "workflow input")
            if workflow.input.from_ is not None:
                value = m.render(
                    workflow.input.from_, raw_input, m.scope(None, None), "/input/from"
                )
        state.transformed_input = value
        root = Frame(
            id=state.next_id(),
            parent=None,
            reference="",
            occurrence="",
            raw_input=value,
            vars=None,
            attempt=1,
            started_at=m.now,
        )
        state.frames[root.id] = root
        state.root = root.id
        if workflow.timeout is not None:
            m.start_timer(root, m.seconds(workflow.timeout, None, None), "workflow-timeout")
        ROOT.start(m, None, root)
    except TaskFault as fault:
        m.fail_workflow(fault.error)


def answer(m: Machine, signal: EffectSucceeded | EffectFailed | TimerFired | EventArrived) -> None:
    effects = m.state.effects
    effect = effects.get(signal.effect_id)
    if effect is None:
        return  # an answer to something cancelled or already answered
    frame = m.state.frames.get(effect.frame)
    if frame is None:
        effects.pop(signal.effect_id, None)
        return
    if not isinstance(signal, EventArrived):
        effects.pop(signal.effect_id, None)
    handler = HANDLERS.for_frame(m, frame)
    try:
        if isinstance(signal, EffectSucceeded):
            handler.on_result(m, frame, effect, signal.result)
        elif isinstance(signal, EffectFailed):
            error = dict(signal.error)
            if error.get("instance") in (None, "", "/"):
                error["instance"] = frame.reference or "/"
            handler.on_failure(m, frame, effect, error)
        elif isinstance(signal, TimerFired):
            if effect.purpose == "timeout":
                detail = "the task did not complete within its timeout"
                m.fault(frame, errors.error(errors.TIMEOUT, detail, instance=frame.reference))
            else:
                handler.on_timer(m, frame, effect)
        else:
            handler.on_event(m, frame, effect, signal.event)
    except TaskFault as fault:
        m.fault(frame, fault.error)


def resume(m: Machine) -> None:
    if m.state.status != SUSPENDED:
        return
    m.set_status(RUNNING)
    deferred, m.state.deferred = m.state.deferred, []
    m.signals.extend(signal_from_json(data) for data in deferred)


def retry(m: Machine, memo: dict[str, Any]) -> None:
    """Run a faulted execution again; tasks found in ``memo`` are not run again."""
    state = m.state
    state.generation += 1
    state.memo = dict(memo)
    state.error = None
    state.ended_at = None
    state.frames.clear()
    state.effects.clear()
    start(m, state.input)


def settle(m: Machine) -> None:
    """Running while a call is outstanding; waiting when only timers and events are."""
    if m.state.status not in (RUNNING, WAITING):
        return
    effects = m.state.effects.values()
    busy = m.state.pending or any(
        e.command.kind not in _WAITING_KINDS or e.purpose == "retry" for e in effects
    )
    m.set_status(RUNNING if busy or not m.state.effects else WAITING)
