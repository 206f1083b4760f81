"""Picking up executions submitted for any engine process, and those of processes whose
lease expired, when several processes share the store (``start(scale_out=True)``).

Claims are made often and in small batches, so that load spreads over the engines and a
restart does not take a whole backlog for itself; a full batch is followed at once by
the next.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass

from flowapp.runtime.background import Background, backoff

# Claims up to ``limit`` executions of others (not our own) and adopts them.
Claim = Callable[[int], Awaitable[list[str]]]


@dataclass(eq=False)
class Pickup(Background):
    claim: Claim
    _: KW_ONLY
    batch: int
    poll_interval: float

    def __post_init__(self) -> None:
        self._full = True  # the first claim is made at once, as is the one after a full batch
        super().__init__(self._pick_up, pause=self._pause, failed="picking up executions failed")

    async def _pause(self, failures: int) -> None:
        if not self._full:
            await asyncio.sleep(backoff(self.poll_interval, failures))

    async def _pick_up(self) -> None:
        self._full = False
        claimed = await self.claim(self.batch)
        self._full = len(claimed) >= self.batch
