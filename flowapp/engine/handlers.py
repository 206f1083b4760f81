"""Which handler runs which kind of task."""

from __future__ import annotations

from flowapp.dsl import model
from flowapp.engine.machine import Handler, Machine
from flowapp.engine.state import Frame
from flowapp.engine.tasks.calls import (
    CallFunctionHandler,
    CallHttpHandler,
    DefinedFunctionHandler,
    EmitHandler,
    RunProcessHandler,
    RunWorkflowHandler,
    UnsupportedHandler,
)
from flowapp.engine.tasks.flow import (
    DoHandler,
    RaiseHandler,
    RootHandler,
    SetHandler,
    SwitchHandler,
    WaitHandler,
)
from flowapp.engine.tasks.listen import ListenHandler
from flowapp.engine.tasks.loops import ForHandler, ForkHandler
from flowapp.engine.tasks.openapi import CallOpenApiHandler
from flowapp.engine.tasks.trying import TryHandler

ROOT = RootHandler()

_BY_KIND: dict[type[model.Task], Handler] = {
    model.DoTask: DoHandler(),
    model.SetTask: SetHandler(),
    model.SwitchTask: SwitchHandler(),
    model.RaiseTask: RaiseHandler(),
    model.WaitTask: WaitHandler(),
    model.ForTask: ForHandler(),
    model.ForkTask: ForkHandler(),
    model.TryTask: TryHandler(),
    model.CallHttpTask: CallHttpHandler(),
    model.CallOpenApiTask: CallOpenApiHandler(),
    model.CallFunctionTask: CallFunctionHandler(),
    model.CallDefinedFunctionTask: DefinedFunctionHandler(),
    model.UnsupportedTask: UnsupportedHandler(),
    model.EmitTask: EmitHandler(),
    model.ListenTask: ListenHandler(),
    model.RunWorkflowTask: RunWorkflowHandler(),
    model.RunProcessTask: RunProcessHandler(),
}


class Registry:
    def for_task(self, task: model.Task) -> Handler:
        return _BY_KIND[type(task)]

    def for_frame(self, m: Machine, frame: Frame) -> Handler:
        if frame.id == m.state.root:
            return ROOT
        return _BY_KIND[type(m.workflow.task(frame.reference))]


HANDLERS = Registry()
