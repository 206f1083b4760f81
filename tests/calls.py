"""Function calls for tests: the first attempt of task ``/do/0/<function>`` of execution
``e1`` unless a test names other ids, with the idempotency key the engine would derive."""

from __future__ import annotations

from typing import Any

from flowapp.functions.port import FunctionCall, FunctionCaller


def function_call(function: str, data: Any = None, **fields: Any) -> FunctionCall:
    execution = fields.get("execution_id", "e1")
    task = fields.get("task_reference", f"/do/0/{function}")
    attempt = fields.get("attempt", 1)
    ids = {
        "execution_id": execution,
        "task_reference": task,
        "attempt": attempt,
        "idempotency_key": f"{execution}{task}/{attempt}",
    }
    return FunctionCall(function=function, data=data, **(ids | fields))


async def call(caller: FunctionCaller, function: str, data: Any = None, **fields: Any) -> Any:
    """Call ``function`` through ``caller`` with ``data``; ``fields`` as for FunctionCall."""
    return await caller.call(function_call(function, data, **fields))
