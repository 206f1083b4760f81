"""Back-pressure: at most ``maxInFlight`` messages of one trigger are being processed.

The runner asks :meth:`InFlight.wait_free` how many slots are free before every receive
and asks the broker for no more than that, so an adapter never holds more than
``maxInFlight`` messages; prefetch/QoS/fetch sizes are bounded by the same number. A
message keeps its slot through in-process retries, so a failing sink slows intake down
instead of piling messages up in memory.
"""

from __future__ import annotations

import asyncio


class InFlight:
    """A counter of busy slots that coroutines can wait on; ``release`` is synchronous."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("maxInFlight must be at least 1")
        self._limit = limit
        self._busy = 0
        self._changed = asyncio.Event()

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def busy(self) -> int:
        return self._busy

    @property
    def free(self) -> int:
        return self._limit - self._busy

    def take(self, count: int = 1) -> None:
        if count > self.free:
            raise RuntimeError(f"taking {count} slots with only {self.free} free")
        self._busy += count

    def release(self) -> None:
        if self._busy == 0:
            raise RuntimeError("releasing a slot that was not taken")
        self._busy -= 1
        self._notify()

    async def wait_free(self) -> int:
        """The number of free slots, once there is at least one."""
        while self._busy >= self._limit:
            await self._wait_change()
        return self.free

    async def wait_idle(self, timeout: float | None = None) -> bool:
        """Whether every slot was released within ``timeout`` seconds."""
        try:
            async with asyncio.timeout(timeout):
                while self._busy:
                    await self._wait_change()
        except TimeoutError:
            return False
        return True

    async def _wait_change(self) -> None:
        # Each waiter holds the event of its own generation, so one release wakes everyone
        # who was waiting when it happened, and nobody misses it.
        await self._changed.wait()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()
