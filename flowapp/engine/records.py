"""What a decision reports besides the new state: task runs and status transitions."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from flowapp.engine.commands import Command
from flowapp.engine.state import ExecutionState


@dataclass(slots=True)
class TaskRun:
    """One run of one task inside an execution (the store keeps it by ``id``)."""

    id: int
    parent_id: int | None
    reference: str
    occurrence: str
    name: str
    status: str
    input: Any
    attempt: int
    started_at: float
    output: Any = None
    error: dict[str, Any] | None = None
    ended_at: float | None = None
    retried: bool = False  # this run is a retry of an earlier attempt
    began: bool = False  # the run started in the decision that reports it

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclass(frozen=True, slots=True)
class Transition:
    """The execution moved to ``status`` at ``at`` (for lifecycle events and history)."""

    status: str
    at: float


@dataclass(slots=True)
class Decision:
    state: ExecutionState
    commands: list[Command] = field(default_factory=list)
    task_runs: list[TaskRun] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)
    steps: int = 0  # of the decision's budget (see ``flowapp.engine.agenda``)
