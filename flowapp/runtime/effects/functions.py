"""``call: <function>``: the runtime's side of calling FlowApp functions.

Any ``FunctionCaller`` does the calling (the local supervisor, fixed URLs, an in-process
fake); failures become the workflow errors ``try``/``retry`` handle: a communication error
carrying the function's status, or a timeout.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flowapp.dsl import errors
from flowapp.engine.commands import CallFunction
from flowapp.functions.errors import FunctionError
from flowapp.functions.port import FunctionCall, FunctionCaller
from flowapp.runtime.effects.base import EffectError

if TYPE_CHECKING:
    from flowapp.runtime.registry import LoadedWorkflow


class FunctionEffects:
    """Every execution calls the same functions (one app, or functions by URL)."""

    def __init__(self, caller: FunctionCaller, *, app: str | None = None) -> None:
        self.caller = caller
        self.app = app

    async def call(self, command: CallFunction, workflow: LoadedWorkflow | None = None) -> Any:
        return await call_function(self.caller, command, app=self.app)


class FunctionRouter:
    """Executions of different apps (and revisions) call their own functions: the caller
    is chosen by ``select(workflow)``, e.g. the supervisor of the revision it runs."""

    def __init__(self, select: Callable[[LoadedWorkflow], FunctionCaller | None]) -> None:
        self.select = select

    async def call(self, command: CallFunction, workflow: LoadedWorkflow) -> Any:
        caller = self.select(workflow)
        if caller is None:
            where = f"app {workflow.app} revision {workflow.revision}"
            detail = f"no functions are running for {where}; is it deployed?"
            error = errors.error(errors.COMMUNICATION, detail, status=503)
            raise EffectError({**error, "instance": command.task_reference})
        return await call_function(caller, command, app=workflow.app)


async def call_function(caller: FunctionCaller, command: CallFunction, *, app: str | None) -> Any:
    call = FunctionCall(
        function=command.function,
        data=command.data,
        execution_id=command.execution_id,
        task_reference=command.task_reference,
        attempt=command.attempt,
        idempotency_key=command.idempotency_key,
        app=app,
        timeout=command.timeout,
    )
    try:
        return await caller.call(call)
    except FunctionError as exc:
        raise EffectError(exc.to_problem(instance=command.task_reference)) from None
