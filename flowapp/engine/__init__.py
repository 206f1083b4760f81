"""The engine: a pure core that decides what an execution does next.

``decide(workflow, state, signal, now) -> Decision`` is the whole interface; see
``flowapp.engine.decide``. Commands and signals are in ``commands`` and ``signals``.
"""

from flowapp.engine.decide import decide, new_state
from flowapp.engine.records import Decision, TaskRun, Transition
from flowapp.engine.scope import Environment
from flowapp.engine.state import ExecutionState

__all__ = [
    "Decision",
    "Environment",
    "ExecutionState",
    "TaskRun",
    "Transition",
    "decide",
    "new_state",
]
