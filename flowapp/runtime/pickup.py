"""Picking up executions submitted for any engine process, and those of processes whose
lease expired, when several processes share the store (``start(scale_out=True)``).

Claims are made often and in small batches, so that load spreads over the engines and a
restart does not take a whole backlog for itself; a full batch is followed at once by
the next.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from flowapp.runtime.background import Background, backoff

log = logging.getLogger("flowapp.runtime.runtime")

# Claims up to ``limit`` executions of others (not our own) and adopts them.
Claim = Callable[[int], Awaitable[list[str]]]


class Pickup:
    def __init__(self, claim: Claim, *, batch: int, poll_interval: float) -> None:
        self._claim = claim
        self._batch = batch
        self._poll_interval = poll_interval
        self._loop = Background(self._pick_up)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _pick_up(self) -> None:
        failures = 0
        while True:
            try:
                claimed = await self._claim(self._batch)
                failures = 0
            except Exception as exc:  # the store may be restarting; log once per outage
                failures += 1
                if failures == 1:
                    log.warning("picking up executions failed; retrying with backoff: %s", exc)
                claimed = []
            if len(claimed) < self._batch:
                await asyncio.sleep(backoff(self._poll_interval, failures))
