"""The ``$variables`` an expression sees, per the spec's table of runtime expression arguments.

A scope is made for one evaluation and resolves names lazily: building ``$task`` or
``$workflow`` costs something, so it happens only for expressions that mention them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flowapp import __version__
from flowapp.dsl.model import Task

if TYPE_CHECKING:
    from flowapp.engine.machine import Machine
    from flowapp.engine.state import Frame


@dataclass(frozen=True, slots=True)
class Environment:
    """What the runtime tells the engine about the world; read-only, never persisted."""

    secrets: Mapping[str, Any] = field(default_factory=dict)
    runtime: Mapping[str, Any] = field(
        default_factory=lambda: {"name": "flowapp", "version": __version__, "metadata": {}}
    )
    function_timeout: float | None = None


DEFAULT_ENVIRONMENT = Environment()


def datetime_descriptor(epoch: float) -> dict[str, Any]:
    moment = datetime.fromtimestamp(epoch, UTC)
    return {
        "iso8601": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "epoch": {"seconds": int(epoch), "milliseconds": int(epoch * 1000)},
    }


class FrameScope:
    """Variables for expressions of one task instance (``frame``), plus ``extra`` ones."""

    __slots__ = ("extra", "frame", "machine", "task")

    def __init__(
        self,
        machine: Machine,
        frame: Frame | None,
        task: Task | None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.machine = machine
        self.frame = frame
        self.task = task
        self.extra = extra

    def lookup(self, name: str) -> Any:
        extra = self.extra
        if extra is not None and name in extra:
            return extra[name]
        frame = self.frame
        if frame is not None and frame.vars is not None and name in frame.vars:
            return frame.vars[name]
        if name == "context":
            return self.machine.state.context
        if name == "input":
            return frame.input if frame is not None else None
        if name == "workflow":
            return self.machine.workflow_descriptor()
        if name == "runtime":
            return self.machine.env.runtime
        if name == "secrets":
            return self.machine.secrets()
        if name == "task":
            return self.task_descriptor()
        if name == "authorization" and frame is not None:
            return frame.data.get("authorization")
        return None

    def task_descriptor(self) -> dict[str, Any] | None:
        if self.task is None or self.frame is None:
            return None
        return {
            "name": self.task.name,
            "reference": self.task.reference,
            "definition": self.task.definition,
            "input": self.frame.raw_input,
            "output": (self.extra or {}).get("__raw_output"),
            "startedAt": datetime_descriptor(self.frame.started_at),
        }
