"""FakeFunctions: the in-process FunctionCaller behaves like the supervisor."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from flowapp.functions.errors import FunctionReplyError, FunctionTimeout, FunctionUnavailable
from flowapp.functions.port import FunctionCall, FunctionCaller
from flowapp.functions.sdk import Context, FunctionError
from flowapp.functions.testing import FakeFunctions
from tests.calls import call

IDS: dict[str, Any] = {
    "execution_id": "e1",
    "task_reference": "/do/0/f",
    "attempt": 2,
    "idempotency_key": "k",
}


async def test_sync_and_async_handlers_see_the_context() -> None:
    async def later(data: Any, context: Context) -> Any:
        await asyncio.sleep(0)
        return {"attempt": context.attempt, "key": context.idempotency_key}

    functions: FunctionCaller = FakeFunctions(
        {"now": lambda data, context: (data, context.execution_id), "later": later}
    )

    assert await call(functions, "now", "x", **IDS) == ["x", "e1"]  # JSON: tuples are lists
    assert await call(functions, "later", None, **IDS) == {"attempt": 2, "key": "k"}


async def test_calls_are_recorded() -> None:
    functions = FakeFunctions({"f": lambda data, context: None}, app="shop")

    await call(functions, "f", {"a": 1}, **IDS)

    assert functions.calls == [FunctionCall(function="f", data={"a": 1}, app="shop", **IDS)]


async def test_failures_surface_as_through_the_supervisor() -> None:
    def refuse(data: Any, context: Context) -> Any:
        raise FunctionError(409, "Conflict", "already done")

    def crash(data: Any, context: Context) -> Any:
        raise KeyError("text")

    async def hang(data: Any, context: Context) -> Any:
        await asyncio.sleep(10)

    functions = FakeFunctions({"refuse": refuse, "crash": crash, "hang": hang})
    functions.register("bad", lambda data, context: object())

    with pytest.raises(FunctionReplyError) as refused:
        await call(functions, "refuse", None, **IDS)
    assert (refused.value.status, refused.value.problem["detail"]) == (409, "already done")
    with pytest.raises(FunctionReplyError) as crashed:
        await call(functions, "crash", None, **IDS)
    assert crashed.value.status == 500
    assert "KeyError" in crashed.value.problem["detail"]
    with pytest.raises(FunctionReplyError, match="not JSON"):
        await call(functions, "bad", None, **IDS)
    with pytest.raises(FunctionTimeout):
        await call(functions, "hang", None, **IDS, timeout=0.01)
    with pytest.raises(FunctionUnavailable):
        await call(functions, "missing", None, **IDS)
