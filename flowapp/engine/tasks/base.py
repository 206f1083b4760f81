"""What every task handler shares, and sequences: running a task list in order.

A sequence is not a frame of its own: the frame of the task that owns the list (the
workflow root, ``do``, ``for``, ``try`` ...) keeps the index of the running child in
``frame.data["index"]`` and asks ``advance`` what to do when that child finishes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from flowapp.dsl import errors
from flowapp.dsl.model import TaskList
from flowapp.engine.machine import CONTINUE, END, EXIT, Machine
from flowapp.engine.state import Effect, Frame


class TaskHandler(ABC):
    """Defaults: a child's fault is the parent's fault; unexpected answers are ignored.

    ``replayable`` kinds are those with effects: when a faulted execution is retried, a
    replayable task that completed before reuses its recorded output instead of running.
    """

    replayable = False

    @abstractmethod
    def start(self, m: Machine, task: Any, frame: Frame) -> None: ...

    def on_child_completed(
        self, m: Machine, frame: Frame, child: Frame, output: Any, then: str
    ) -> None:
        m.complete(frame, output)

    def on_child_faulted(
        self, m: Machine, frame: Frame, child: Frame, error: dict[str, Any]
    ) -> None:
        m.fault(frame, error)

    def on_result(self, m: Machine, frame: Frame, effect: Effect, result: Any) -> None:
        return None

    def on_failure(self, m: Machine, frame: Frame, effect: Effect, error: dict[str, Any]) -> None:
        m.fault(frame, error)

    def on_timer(self, m: Machine, frame: Frame, effect: Effect) -> None:
        return None

    def on_event(self, m: Machine, frame: Frame, effect: Effect, event: dict[str, Any]) -> None:
        return None


def begin(
    m: Machine,
    frame: Frame,
    tasks: TaskList,
    value: Any,
    *,
    vars: dict[str, Any] | None = None,
    prefix: str | None = None,
) -> bool:
    """Start the first task of ``tasks``; False if the list is empty."""
    frame.data["index"] = 0
    if not tasks.tasks:
        return False
    m.start_task(tasks.tasks[0], frame, value, vars=vars, prefix=prefix)
    return True


def advance(
    m: Machine,
    frame: Frame,
    tasks: TaskList,
    output: Any,
    then: str,
    *,
    vars: dict[str, Any] | None = None,
    prefix: str | None = None,
) -> bool:
    """After a child finished with directive ``then``: True if the sequence goes on (or the
    workflow ended), False if the sequence is over and ``output`` is its result."""
    if then == END:
        m.end_workflow(frame, output)
        return True
    if then == EXIT:
        return False
    if then == CONTINUE:
        index = frame.data.get("index", 0) + 1
    else:
        target = tasks.index_by_name.get(then)
        if target is None:
            detail = f"flow directive `then: {then}` names no task in {tasks.reference}"
            m.fault(frame, errors.error(errors.CONFIGURATION, detail, instance=frame.reference))
            return True
        index = target
    if index >= len(tasks.tasks):
        return False
    frame.data["index"] = index
    m.start_task(tasks.tasks[index], frame, output, vars=vars, prefix=prefix)
    return True
