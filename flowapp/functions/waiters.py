"""Calls waiting for a free instance slot: a FIFO of futures with an expiry each.

The pool pushes a call here when no instance has a free slot, and hands instances to
the oldest waiting call as slots free up or instances become ready (``pop``), so a
queued call costs no polling and is served in arrival order. A call that waits longer
than its timeout fails with :class:`~flowapp.functions.errors.FunctionUnavailable`; when
the function starts failing or is stopped, every waiting call fails at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

from flowapp.functions.errors import FunctionUnavailable

T = TypeVar("T")


class Waiters(Generic[T]):
    def __init__(self, function: str) -> None:
        self._function = function
        self._queue: deque[asyncio.Future[T]] = deque()

    @property
    def pending(self) -> int:
        return sum(not waiter.done() for waiter in self._queue)

    def push(self) -> asyncio.Future[T]:
        waiter: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append(waiter)
        return waiter

    def pop(self) -> asyncio.Future[T] | None:
        """The oldest call still waiting, taken off the queue; None if there is none."""
        while self._queue:
            waiter = self._queue.popleft()
            if not waiter.done():
                return waiter
        return None

    async def wait(
        self, waiter: asyncio.Future[T], *, timeout: float, reason: Callable[[], str]
    ) -> T:
        """What ``waiter`` is handed; FunctionUnavailable(``reason()``) after ``timeout``."""
        loop = asyncio.get_running_loop()
        expiry = loop.call_later(timeout, self._expire, waiter, reason)
        try:
            return await waiter
        finally:
            expiry.cancel()
            with contextlib.suppress(ValueError):
                self._queue.remove(waiter)

    def reject_all(self, reason: str) -> None:
        while (waiter := self.pop()) is not None:
            waiter.set_exception(FunctionUnavailable(self._function, reason))

    def _expire(self, waiter: asyncio.Future[T], reason: Callable[[], str]) -> None:
        if not waiter.done():
            waiter.set_exception(FunctionUnavailable(self._function, reason()))


def claimed(waiter: asyncio.Future[T]) -> T | None:
    """What a waiter was handed, if it was handed something (its caller may have left)."""
    if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
        return waiter.result()
    return None
