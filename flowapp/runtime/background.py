"""One background loop of the runtime as an asyncio task that ``stop`` cancels and awaits.

The loops (``leases.py``, ``outbox_relay.py``, ``signal_polling.py``, ``pickup.py``) each
hold one; every loop backs off while the store is unavailable and logs once per outage.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any


class Background:
    def __init__(self, loop: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self._loop = loop
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def backoff(interval: float, failures: int) -> float:
    """The poll interval, doubled per consecutive failure up to 5 s."""
    return min(5.0, interval * 2**failures) if failures else interval
