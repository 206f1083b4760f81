"""``call: <function>``: the runtime's side of calling FlowApp functions.

Any ``FunctionCaller`` does the calling (the local supervisor, fixed URLs, an in-process
fake); failures become the workflow errors ``try``/``retry`` handle: a communication error
carrying the function's status, or a timeout.
"""

from __future__ import annotations

from typing import Any

from flowapp.engine.commands import CallFunction
from flowapp.functions.errors import FunctionError
from flowapp.functions.port import FunctionCaller
from flowapp.runtime.effects.base import EffectError


class FunctionEffects:
    def __init__(self, caller: FunctionCaller, *, app: str | None = None) -> None:
        self.caller = caller
        self.app = app

    async def call(self, command: CallFunction) -> Any:
        try:
            return await self.caller.call(
                command.function,
                command.data,
                execution_id=command.execution_id,
                task_reference=command.task_reference,
                attempt=command.attempt,
                idempotency_key=command.idempotency_key,
                app=self.app,
                timeout=command.timeout,
            )
        except FunctionError as exc:
            raise EffectError(exc.to_problem(instance=command.task_reference)) from None
