"""A background round repeated every few seconds, for the local target's controllers.

The syncer, the alert evaluator and the notification sender each do one *round* (observe
and write, measure and decide, claim and deliver) and then sleep. ``Periodic`` owns that
loop: it starts a task, runs the round, logs an exception and carries on with the next
round (a database that is briefly unavailable must not stop the controller), and stops
between rounds, letting the current one finish so that no write is cut in half.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Periodic:
    """Run ``step`` (one round) now and then every ``interval`` seconds until :meth:`stop`."""

    def __init__(self, name: str, step: Callable[[], Awaitable[object]], interval: float) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be > 0 seconds, not {interval!r}")
        self.name = name
        self.interval = interval
        self._step = step
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def stopping(self) -> asyncio.Event:
        """Set by :meth:`stop`: a long round looks at it between its steps."""
        return self._stopping

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Start the loop (idempotent); the first round runs at once."""
        if self.running:
            return
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        """Stop after the round in progress, if any (idempotent)."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        await task

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._step()
            except Exception:
                # Logged with its traceback and retried next round: the state it works
                # from is in the database, so a later round picks up where this one failed.
                log.exception("%s: round failed; retrying in %.1f s", self.name, self.interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.interval)
