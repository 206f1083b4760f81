"""In-process functions for tests of code that calls functions (the runtime, the engine's
shell): :class:`FakeFunctions` implements :class:`~flowapp.functions.port.FunctionCaller`
without processes or HTTP.

Handlers are what an author writes, ``handle(data, context)`` sync or async, and failures
surface exactly as through the supervisor: an author's
:class:`~flowapp.functions.sdk.FunctionError` as :class:`FunctionReplyError` with its
status, any other exception or a non-JSON output as a 500 :class:`FunctionReplyError`, a
slow handler as :class:`FunctionTimeout`, an unknown name as :class:`FunctionUnavailable`.
Outputs go through a JSON round trip, so a test sees what a real caller would. Every call
is recorded in :attr:`FakeFunctions.calls`, with its app resolved::

    functions = FakeFunctions({"append": lambda data, ctx: data + "!"})
    assert await functions.call(FunctionCall(function="append", data="hi", ...)) == "hi!"
    assert functions.calls[0].task_reference == "/do/0/append"

Part of the public testing kit: production code never imports it (``.importlinter``).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import orjson

from flowapp.functions import wire
from flowapp.functions.errors import FunctionReplyError, FunctionTimeout, FunctionUnavailable
from flowapp.functions.loader import Handler
from flowapp.functions.port import FunctionCall
from flowapp.functions.sdk import (
    ATTEMPT_ATTRIBUTE,
    EXECUTION_ATTRIBUTE,
    TASK_ATTRIBUTE,
    FunctionError,
    build_context,
)


class FakeFunctions:
    """Functions as Python callables; ``timeout`` defaults to 30 s like a FunctionSpec's."""

    def __init__(
        self, handlers: Mapping[str, Handler] | None = None, *, app: str = "default"
    ) -> None:
        self.app = app
        self.handlers: dict[str, Handler] = dict(handlers or {})
        self.calls: list[FunctionCall] = []

    def register(self, name: str, handler: Handler) -> None:
        self.handlers[name] = handler

    async def call(self, call: FunctionCall) -> Any:
        call = replace(call, app=call.app or self.app)
        self.calls.append(call)
        handler = self.handlers.get(call.function)
        if handler is None:
            raise FunctionUnavailable(call.function, "no such function in this app")
        return await self._invoke(handler, call, call.timeout or 30.0)

    async def _invoke(self, handler: Handler, call: FunctionCall, timeout: float) -> Any:
        name = call.function
        attributes = {
            "specversion": "1.0",
            "id": call.idempotency_key,
            "source": wire.source(call.app or self.app, name),
            "type": wire.INVOKED,
            EXECUTION_ATTRIBUTE: call.execution_id,
            TASK_ATTRIBUTE: call.task_reference,
            ATTEMPT_ATTRIBUTE: call.attempt,
        }
        context = build_context(attributes, logger=logging.getLogger(f"flowapp.function.{name}"))
        try:
            async with asyncio.timeout(timeout):
                output = await _run(handler, _json(call.data), context)
        except TimeoutError as exc:
            raise FunctionTimeout(name, timeout) from exc
        except FunctionError as exc:
            raise FunctionReplyError(name, exc.status, exc.to_problem()) from exc
        except Exception as exc:
            problem = wire.unhandled_problem(exc, call.task_reference)
            raise FunctionReplyError(name, 500, problem) from exc
        return _output(name, output)


async def _run(handler: Handler, data: Any, context: Any) -> Any:
    result = handler(data, context)
    return await result if inspect.isawaitable(result) else result


def _json(value: Any) -> Any:
    return orjson.loads(orjson.dumps(value))


def _output(name: str, output: Any) -> Any:
    try:
        return _json(output)
    except TypeError as exc:
        problem = wire.problem(500, "Invalid output", f"the output of handle is not JSON: {exc}")
        raise FunctionReplyError(name, 500, problem) from exc
