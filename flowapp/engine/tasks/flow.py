"""Tasks that shape the flow: the root, ``do``, ``set``, ``switch``, ``raise``, ``wait``."""

from __future__ import annotations

from typing import Any

from flowapp.dsl import errors
from flowapp.dsl.expressions import ExpressionError, truthy
from flowapp.dsl.model import DoTask, RaiseTask, SetTask, SwitchTask, WaitTask
from flowapp.engine.machine import Machine, TaskFault, expression_error
from flowapp.engine.state import Effect, Frame
from flowapp.engine.tasks.base import TaskHandler, advance, begin


class RootHandler(TaskHandler):
    """The workflow's top-level ``do``: its end is the execution's end."""

    def start(self, m: Machine, task: Any, frame: Frame) -> None:
        if not begin(m, frame, m.workflow.tasks, frame.input):
            m.finish_workflow(frame.input)

    def on_child_completed(
        self, m: Machine, frame: Frame, child: Frame, output: Any, then: str
    ) -> None:
        if not advance(m, frame, m.workflow.tasks, output, then):
            m.finish_workflow(output)

    def on_child_faulted(
        self, m: Machine, frame: Frame, child: Frame, error: dict[str, Any]
    ) -> None:
        m.fail_workflow(error)

    def on_timer(self, m: Machine, frame: Frame, effect: Effect) -> None:
        if effect.purpose == "workflow-timeout":
            detail = "the workflow did not complete within its timeout"
            m.fail_workflow(errors.error(errors.TIMEOUT, detail, instance="/"))


class DoHandler(TaskHandler):
    def start(self, m: Machine, task: DoTask, frame: Frame) -> None:
        if not begin(m, frame, task.tasks, frame.input):
            m.complete(frame, frame.input)

    def on_child_completed(
        self, m: Machine, frame: Frame, child: Frame, output: Any, then: str
    ) -> None:
        task = m.workflow.task(frame.reference)
        assert isinstance(task, DoTask)
        if not advance(m, frame, task.tasks, output, then):
            m.complete(frame, output)


class SetHandler(TaskHandler):
    def start(self, m: Machine, task: SetTask, frame: Frame) -> None:
        value = m.render(task.value, frame.input, m.scope(frame, task), task.reference)
        m.complete(frame, value)


class SwitchHandler(TaskHandler):
    """The first case whose ``when`` holds decides the directive; data passes through."""

    def start(self, m: Machine, task: SwitchTask, frame: Frame) -> None:
        scope = m.scope(frame, task)
        default = None
        for case in task.cases:
            if case.when is None:
                default = default or case
                continue
            try:
                matched = truthy(case.when.evaluate(frame.input, scope))
            except ExpressionError as exc:
                where = f"{task.reference}/switch/{case.name}"
                raise TaskFault(expression_error(exc, where)) from None
            if matched:
                m.complete(frame, frame.input, case.then)
                return
        m.complete(frame, frame.input, default.then if default is not None else None)


class RaiseHandler(TaskHandler):
    def start(self, m: Machine, task: RaiseTask, frame: Frame) -> None:
        spec = task.error
        scope = m.scope(frame, task)
        where = task.reference

        def field(template: Any) -> Any:
            return None if template is None else m.render(template, frame.input, scope, where)

        problem: dict[str, Any] = {"type": field(spec.type), "status": field(spec.status)}
        for key, template in (("title", spec.title), ("detail", spec.detail)):
            value = field(template)
            if value is not None:
                problem[key] = value
        problem["instance"] = spec.instance or task.reference
        m.fault(frame, problem)


class WaitHandler(TaskHandler):
    replayable = True

    def start(self, m: Machine, task: WaitTask, frame: Frame) -> None:
        seconds = m.seconds(task.duration, frame, task)
        frame.data["timer"] = m.start_timer(frame, seconds, "wait")

    def on_timer(self, m: Machine, frame: Frame, effect: Effect) -> None:
        if effect.purpose == "wait":
            m.complete(frame, frame.input)
