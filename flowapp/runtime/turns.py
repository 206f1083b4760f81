"""One turn of an execution: decide the signals waiting for it, then hold it to its limits.

    inbox --decider--> decisions --limits (CPU time, state size)--> checkpoint

The decider (in process, or a worker process) runs the engine, which enforces the limits
it can count (task runs, ``for`` items) and cuts the turn at its step budget. What only
the runtime can measure is checked here, after each turn: the CPU time the execution has
spent being decided, and the size of its saved state. Over either, or when the decider
died on it, the execution is faulted at once with an ``Abort`` decided in process (it
only closes what is open). While a turn is being decided its execution is in the
decision journal, so that a crash of the whole process in the middle of it is traced
back to it at the next start (``journal``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from flowapp.dsl import errors
from flowapp.engine import decide
from flowapp.engine.limits import limit_error
from flowapp.engine.records import Decision, Transition
from flowapp.engine.scope import Environment
from flowapp.engine.signals import Abort, Signal
from flowapp.engine.state import FAULTED
from flowapp.runtime.deciders.base import Decider, Turn, TurnRequest
from flowapp.runtime.deciders.wire import encode_state
from flowapp.runtime.journal import DecisionJournal
from flowapp.runtime.live import LiveExecution
from flowapp.runtime.registry import LoadedWorkflow
from flowapp.store.port import StoreError

log = logging.getLogger("flowapp.runtime.runtime")


class Turns:
    """Takes the turns of every execution of a runtime with its decider and journal."""

    def __init__(
        self,
        decider: Decider,
        env_for: Callable[[LoadedWorkflow], Environment],
        journal: DecisionJournal | None = None,
    ) -> None:
        self.decider = decider
        self.env_for = env_for
        self.journal = journal

    async def take(self, live: LiveExecution, signals: Sequence[Signal], now: float) -> Turn:
        """Decide ``signals`` for ``live`` (whose state becomes the new one). The turn's
        ``snapshot`` is the new state as JSON, or None if it could not be encoded."""
        journal = self.journal
        if journal is not None:
            journal.begin(live.id)
        try:
            env = self.env_for(live.workflow)
            turn = await self.decider.decide(
                TurnRequest(live.workflow, live.state, signals, now, env)
            )
        finally:
            if journal is not None:
                journal.end(live.id)
        live.state = turn.state
        problem = turn.failure or over_limits(turn)
        if problem is not None:
            log.warning("faulting execution %s: %s", live.id, problem.get("detail"))
            turn.decisions.append(fault(self.env_for(live.workflow), live, problem, now))
            turn.snapshot = None  # the state changed since
        return turn


def over_limits(turn: Turn) -> dict[str, Any] | None:
    """The problem if the execution is over its CPU time or state size."""
    state = turn.state
    limits = state.limits
    if state.cpu_seconds > limits.cpu_seconds and not state.is_final:
        detail = (
            f"the execution has spent {state.cpu_seconds:.2f} s of CPU time being decided, "
            f"over its limit of {limits.cpu_seconds:g} s (cpuTime)"
        )
        return limit_error("cpuTime", detail, instance=state.current_task())
    if turn.snapshot is None:
        try:  # what the store would write: encoded once, here
            turn.snapshot = encode_state(state)
        except StoreError:
            return None  # not JSON: the commit refuses it and faults the execution
    if len(turn.snapshot) > limits.state_bytes:
        detail = (
            f"the execution's state is {len(turn.snapshot):,} bytes, over its limit of "
            f"{limits.state_bytes:,} bytes (stateSize)"
        )
        return limit_error("stateSize", detail, instance=state.current_task())
    return None


def fault(env: Environment, live: LiveExecution, problem: dict[str, Any], now: float) -> Decision:
    """Fault ``live`` with ``problem``, even when its last turn completed it."""
    state = live.state
    if not state.is_final:
        return decide(live.workflow.model, state, Abort(problem), now, env)
    if state.status == FAULTED:  # already faulted, with an error of its own
        return Decision(state)
    state.output = None
    state.error = problem
    state.status = FAULTED
    return Decision(state, transitions=[Transition(FAULTED, now)])


def quarantine_error(detail: str, *, instance: str = "/") -> dict[str, Any]:
    """The problem of an execution faulted because deciding it brought a process down."""
    return errors.error(errors.RUNTIME, detail, instance=instance, title="Execution quarantined")
