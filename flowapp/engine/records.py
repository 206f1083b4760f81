"""What a decision reports besides the new state: task runs and status transitions."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from flowapp.engine.commands import Command
from flowapp.engine.state import ExecutionState


@dataclass(slots=True, kw_only=True)
class TaskRunFields:
    """What is known of one run of one task inside an execution: what a decision reports
    of it (:class:`TaskRun`) and what the store keeps, by ``id``
    (:class:`flowapp.store.port.TaskRunRecord`, which adds where it ran)."""

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


TASK_RUN_FIELDS = tuple(f.name for f in dataclasses.fields(TaskRunFields))


@dataclass(slots=True, kw_only=True)
class TaskRun(TaskRunFields):
    """A task run as a decision reports it, with what the lifecycle events need to know."""

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
