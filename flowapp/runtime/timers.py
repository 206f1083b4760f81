"""In-process timers keyed by (execution, effect); due times are wall-clock seconds.

Durable timers live in the store (``timers`` table); this only arms the ones of the
executions this process holds. A timer whose due time has passed fires at once, which is
how timers that came due while the engine was down fire when it comes back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class Timers:
    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        *,
        on_fire: Callable[[float], None] | None = None,
    ) -> None:
        self.clock = clock
        self.on_fire = on_fire  # told how late each timer fired, in seconds
        self._handles: dict[tuple[str, str], asyncio.TimerHandle] = {}

    def __len__(self) -> int:
        return len(self._handles)

    def arm(
        self, execution_id: str, effect_id: str, due_at: float, fire: Callable[[], object]
    ) -> None:
        key = (execution_id, effect_id)
        self.disarm(execution_id, effect_id)
        loop = asyncio.get_running_loop()
        delay = max(0.0, due_at - self.clock())

        def run() -> None:
            self._handles.pop(key, None)
            if self.on_fire is not None:
                self.on_fire(self.clock() - due_at)
            fire()

        self._handles[key] = loop.call_at(loop.time() + delay, run)

    def disarm(self, execution_id: str, effect_id: str) -> None:
        handle = self._handles.pop((execution_id, effect_id), None)
        if handle is not None:
            handle.cancel()

    def disarm_execution(self, execution_id: str) -> None:
        for key in [k for k in self._handles if k[0] == execution_id]:
            self._handles.pop(key).cancel()

    def clear(self) -> None:
        for handle in self._handles.values():
            handle.cancel()
        self._handles.clear()
