"""A background loop of the runtime: wait, run a round, log a failure; again until stopped.

The loops (``leases.py``, ``outbox_relay.py``, ``signal_polling.py``, ``pickup.py``) are
each one, on an asyncio task that ``stop`` cancels and awaits. A round that fails is
retried at the next one: the store may be restarting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("flowapp.runtime.runtime")


class Background:
    """``pause(failures)`` is awaited before each round (``failures``: how many rounds in a
    row have failed). A failed round is logged as ``failed``: with its traceback every
    time (``each_failure``, for failures that are news), or else once per outage with
    the error, while ``pause`` backs off."""

    def __init__(
        self,
        round: Callable[[], Awaitable[object]],
        *,
        pause: Callable[[int], Awaitable[None]],
        failed: str,
        each_failure: bool = False,
    ) -> None:
        self._do_round = round
        self._pause_before = pause
        self._failed = failed
        self._each_failure = each_failure
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self) -> None:
        failures = 0
        while True:
            await self._pause_before(failures)
            try:
                await self._do_round()
                failures = 0
            except Exception as exc:
                failures += 1
                if self._each_failure:
                    log.exception(self._failed)
                elif failures == 1:
                    log.warning("%s; retrying with backoff: %s", self._failed, exc)


def backoff(interval: float, failures: int) -> float:
    """The poll interval, doubled per consecutive failure up to 5 s."""
    return min(5.0, interval * 2**failures) if failures else interval
