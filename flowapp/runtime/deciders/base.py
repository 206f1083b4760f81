"""What every decider shares: the turn it returns and the loop that decides one.

A *decider* runs the pure engine for the runtime. The runtime hands it one execution's
waiting signals at a time (a *turn*) and gets back the new state (with the CPU time the
turn took added to it), the decisions, and, when the decider died on that execution
(over its time budget, out of memory, crashed), the problem to fault it with instead.

A turn is bounded twice. Its step budget (a count, which the engine enforces) is shared
by its signals: once it is spent, the work and signals left are saved in the state
(``flowapp.engine.agenda``) and go on in a later turn. And its time slice: the engine
reads no clock, so the turn is decided in chunks of steps, sized from the time the steps
took so far, and stops once the slice is over. Where a turn is cut never changes what the
execution does; only how often it is saved and how long others wait for the decider.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from flowapp.engine import decide
from flowapp.engine.records import Decision
from flowapp.engine.scope import Environment
from flowapp.engine.signals import Continue, Signal
from flowapp.engine.state import ExecutionState
from flowapp.runtime.registry import LoadedWorkflow

# Steps one turn may take before it yields: 125 `set` tasks, about 4 ms of deciding on
# one core, and as many task runs for the server to store and count after the turn. Short
# enough that an endless loop does not hold the process that stores it, long enough that
# the cost of a commit per turn stays small (see docs/security.md).
DEFAULT_STEP_BUDGET = 250
# The time a turn may take, steps of heavy expressions included (checked between chunks of
# steps, so one step longer than this still runs to its end).
DEFAULT_TURN_SECONDS = 0.025
_FIRST_CHUNK = 8  # steps decided before the turn knows what a step costs


class DeciderClosed(Exception):
    """The decider was closed (the runtime is stopping) before it decided the turn."""


@dataclass(slots=True)
class Turn:
    state: ExecutionState
    decisions: list[Decision] = field(default_factory=list)
    cpu_seconds: float = 0.0
    # ``state`` as JSON when the decider encoded it already (the size of the saved state,
    # and what the store writes as it is while nothing changes the state after the turn).
    snapshot: bytes | None = None
    failure: dict[str, Any] | None = None  # the decider died on this execution


@dataclass(frozen=True, slots=True)
class TurnRequest:
    """One execution's turn to decide: its workflow and state, the signals waiting for it,
    the time they are decided at, and the environment its expressions see."""

    workflow: LoadedWorkflow
    state: ExecutionState
    signals: Sequence[Signal]
    now: float
    env: Environment


class Decider(Protocol):
    async def start(self) -> None: ...

    async def decide(self, request: TurnRequest) -> Turn:
        """Decide the request's signals in order. Its ``state`` may be updated in place;
        the turn's ``state`` is the one to keep."""
        ...

    async def close(self) -> None: ...


def decide_turn(
    workflow: Any,
    state: ExecutionState,
    signals: Sequence[Signal],
    now: float,
    env: Environment,
    *,
    budget: int = DEFAULT_STEP_BUDGET,
    seconds: float = DEFAULT_TURN_SECONDS,
    clock: Callable[[], float] = time.perf_counter,
) -> list[Decision]:
    """Decide each signal on ``workflow`` (a model), then go on with the work they leave,
    within ``budget`` steps and about ``seconds``."""
    slicer = _Slicer(budget, seconds, clock)
    decisions = [slicer.decide(workflow, state, signal, now, env) for signal in signals]
    while state.has_pending_work and slicer.left > 0:
        decisions.append(slicer.decide(workflow, state, Continue(), now, env))
    return decisions


class _Slicer:
    """Hands out chunks of steps that fit in what is left of the turn's time."""

    def __init__(self, budget: int, seconds: float, clock: Callable[[], float]) -> None:
        self.left = budget
        self.clock = clock
        self.deadline = clock() + seconds
        self.chunk = min(_FIRST_CHUNK, budget)
        self.step_seconds = 0.0

    def decide(
        self, workflow: Any, state: ExecutionState, signal: Signal, now: float, env: Environment
    ) -> Decision:
        started = self.clock()
        decision = decide(workflow, state, signal, now, env, budget=min(self.chunk, self.left))
        ended = self.clock()
        self.left -= decision.steps
        if decision.steps:
            self.step_seconds = max(self.step_seconds, (ended - started) / decision.steps)
        remaining = self.deadline - ended
        if remaining <= 0:
            self.left = 0  # signals still to come are saved for the next turn, unapplied
        elif self.step_seconds > 0:
            self.chunk = max(1, min(self.left, int(remaining / self.step_seconds)))
        else:
            self.chunk = self.left
        return decision
