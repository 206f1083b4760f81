"""Tasks that repeat or branch: ``for`` (with ``while``) and ``fork`` (with ``compete``).

``for`` chains its iterations: each one runs the ``do`` list on the previous iteration's
output (the first on the task's input), with ``$<each>`` and ``$<at>`` bound; the task's
output is the last iteration's. Iterations get distinct occurrence keys (``.../loop[3]``).

``fork`` starts every branch in one decision, so the runtime carries out their effects
concurrently. Without ``compete`` the output is the branches' outputs in declaration
order; with it, the first branch to complete wins and the others are cancelled.
"""

from __future__ import annotations

from typing import Any

from flowapp.dsl import errors
from flowapp.dsl.expressions import ExpressionError, truthy
from flowapp.dsl.model import ForkTask, ForTask
from flowapp.engine.limits import LimitExceeded, limit_error
from flowapp.engine.machine import Machine, TaskFault, expression_error
from flowapp.engine.state import Frame
from flowapp.engine.tasks.base import TaskHandler, advance, begin


def _items(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return list(value.values())
    detail = f"`for.in` must give an array, got {type(value).__name__}"
    raise TaskFault(errors.error(errors.EXPRESSION, detail, instance=where))


class ForHandler(TaskHandler):
    def start(self, m: Machine, task: ForTask, frame: Frame) -> None:
        try:
            collection = task.in_.evaluate(frame.input, m.scope(frame, task))
        except ExpressionError as exc:
            raise TaskFault(expression_error(exc, task.reference)) from None
        items = _items(collection, task.reference)
        limit = m.state.limits.for_items
        if len(items) > limit:
            detail = (
                f"`for` over {len(items):,} items, over the limit of {limit:,} items per `for`"
                " (forItems)"
            )
            raise LimitExceeded(limit_error("forItems", detail, instance=task.reference))
        frame.data["items"] = items
        self.iterate(m, task, frame, 0, frame.input)

    def iterate(self, m: Machine, task: ForTask, frame: Frame, index: int, value: Any) -> None:
        """Start iteration ``index`` (and those after it whose ``do`` is empty)."""
        items = frame.data["items"]
        while index < len(items):
            loop_vars = {**(frame.vars or {}), task.each: items[index], task.at: index}
            if task.while_ is not None:
                scope = m.scope(frame, task, **loop_vars)
                try:
                    go_on = truthy(task.while_.evaluate(value, scope))
                except ExpressionError as exc:
                    m.fault(frame, expression_error(exc, task.reference))
                    return
                if not go_on:
                    break
            frame.data["iteration"] = index
            frame.data["vars"] = loop_vars
            prefix = f"{frame.occurrence}[{index}]"
            if begin(m, frame, task.tasks, value, vars=loop_vars, prefix=prefix):
                return
            index += 1
        m.complete(frame, value)

    def on_child_completed(
        self, m: Machine, frame: Frame, child: Frame, output: Any, then: str
    ) -> None:
        task = m.workflow.task(frame.reference)
        assert isinstance(task, ForTask)
        index = frame.data["iteration"]
        prefix = f"{frame.occurrence}[{index}]"
        if not advance(m, frame, task.tasks, output, then, vars=frame.data["vars"], prefix=prefix):
            self.iterate(m, task, frame, index + 1, output)


class ForkHandler(TaskHandler):
    def start(self, m: Machine, task: ForkTask, frame: Frame) -> None:
        branches = task.branches.tasks
        if not branches:
            m.complete(frame, [])
            return
        frame.data["results"] = [None] * len(branches)
        frame.data["pending"] = len(branches)
        frame.data["branch_of"] = {}
        for position, branch in enumerate(branches):
            child = m.start_task(branch, frame, frame.input)
            frame.data["branch_of"][str(child.id)] = position

    def on_child_completed(
        self, m: Machine, frame: Frame, child: Frame, output: Any, then: str
    ) -> None:
        task = m.workflow.task(frame.reference)
        assert isinstance(task, ForkTask)
        if then == "end":
            m.end_workflow(frame, output)
            return
        if task.compete:
            m.cancel_children(frame)
            m.complete(frame, output)
            return
        frame.data["results"][frame.data["branch_of"][str(child.id)]] = output
        frame.data["pending"] -= 1
        if frame.data["pending"] == 0:
            m.complete(frame, frame.data["results"])

    def on_child_faulted(
        self, m: Machine, frame: Frame, child: Frame, error: dict[str, Any]
    ) -> None:
        task = m.workflow.task(frame.reference)
        assert isinstance(task, ForkTask)
        frame.data["pending"] -= 1
        if task.compete and frame.data["pending"] > 0:
            return  # a racer that fails leaves the race to the others
        m.fault(frame, error)
