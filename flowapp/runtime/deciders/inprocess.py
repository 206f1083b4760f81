"""Deciding on the caller's thread: the fastest, and the default.

``flowapp run``, ``flowapp dev``, tests and benchmarks decide in process: no copy of the
state, no message, no process to keep. The step budget and the time slice still cut an
endless loop into turns, so the event loop serves others between them; but nothing can
stop one long expression (jq holds the GIL while it evaluates), which is why
``flowapp up`` decides in worker processes instead (``pool``).
"""

from __future__ import annotations

import time

from flowapp.engine.limits import limit_error
from flowapp.runtime.deciders.base import (
    DEFAULT_STEP_BUDGET,
    DEFAULT_TURN_SECONDS,
    Turn,
    TurnRequest,
    decide_turn,
)


class InProcessDecider:
    def __init__(
        self, *, step_budget: int = DEFAULT_STEP_BUDGET, turn_seconds: float = DEFAULT_TURN_SECONDS
    ) -> None:
        self.step_budget = step_budget
        self.turn_seconds = turn_seconds

    async def start(self) -> None:
        return None

    async def decide(self, request: TurnRequest) -> Turn:
        state = request.state
        started = time.thread_time()
        try:
            decisions = decide_turn(
                request.workflow.model,
                state,
                request.signals,
                request.now,
                request.env,
                budget=self.step_budget,
                seconds=self.turn_seconds,
            )
        except MemoryError:
            detail = "deciding the execution ran out of memory"
            return Turn(state, [], time.thread_time() - started, failure=_memory(detail))
        cpu = time.thread_time() - started
        # Microseconds: a long run of digits sends JSON through the store codec's slow path.
        state.cpu_seconds = round(state.cpu_seconds + cpu, 6)
        return Turn(state, decisions, cpu)

    async def close(self) -> None:
        return None


def _memory(detail: str) -> dict[str, object]:
    return limit_error("memory", detail)
