"""Load a Python function's ``handle`` from its folder and call it, sync or async.

The host (``host.py``) imports ``<folder>/main.py`` once at start-up with the folder on
``sys.path`` (so ``main.py`` can import its sibling modules), then calls ``handle`` for
each request through an :class:`Invoker`: coroutine functions run on the event loop, plain
functions in a bounded thread pool so that a blocking handler never stalls the server.
"""

from __future__ import annotations

import asyncio
import contextvars
import importlib.util
import inspect
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from flowapp.functions.sdk import Context

Handler = Callable[[Any, Context], Any]


class HandlerLoadError(Exception):
    """``main.py`` is missing, fails to import, or defines no callable ``handle``."""


def load_handler(folder: Path, *, module_name: str = "main") -> Handler:
    """``handle`` from ``folder/<module_name>.py``."""
    path = folder / f"{module_name}.py"
    if not path.is_file():
        raise HandlerLoadError(f"{path} not found: a Python function needs a {path.name}")
    sys.path.insert(0, str(folder))
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise HandlerLoadError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)  # errors propagate with the author's traceback
    handler = getattr(module, "handle", None)
    if not callable(handler):
        raise HandlerLoadError(f"{path} defines no function `handle(data, context)`")
    return handler  # type: ignore[no-any-return]


class Invoker:
    """Calls a handler: ``async def`` on the loop, ``def`` in a thread pool."""

    def __init__(self, handler: Handler, *, threads: int) -> None:
        self._handler = handler
        self._is_async = _is_coroutine_function(handler)
        # Created lazily so an async-only function never starts threads.
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None

    @property
    def is_async(self) -> bool:
        return self._is_async

    async def __call__(self, data: Any, context: Context) -> Any:
        if self._is_async:
            return await self._handler(data, context)
        loop = asyncio.get_running_loop()
        # copy_context: contextvars set by middleware/logging reach the handler thread.
        call = contextvars.copy_context().run
        result = await loop.run_in_executor(self._executor(), call, self._handler, data, context)
        if inspect.isawaitable(result):  # a plain def that returned a coroutine
            result = await result
        return result

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="handle")
        return self._pool

    def shutdown(self) -> None:
        if self._pool is not None:
            # A handler stuck in a thread cannot be interrupted; do not wait for it.
            self._pool.shutdown(wait=False, cancel_futures=True)


def _is_coroutine_function(handler: Handler) -> bool:
    if inspect.iscoroutinefunction(handler):
        return True
    call = getattr(handler, "__call__", None)  # noqa: B004 - callable objects
    return inspect.iscoroutinefunction(call)
