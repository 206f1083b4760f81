"""A trigger that runs on one replica at a time: the holder of its ``Lease``.

    start -> loop: acquire? ── no ──> stand by, try again after ``interval``
                      └─ yes ─> start the trigger; every ``interval``: still held?
                                  └─ no ─> stop the trigger, back to acquiring

Stopping the trigger leaves its unacknowledged messages to the broker, which gives them
to the next holder (``Trigger.stop``), so a change of leader loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from flowapp.cluster.leader import Lease
from flowapp.triggers.base import Sink, Trigger, TriggerState, TriggerStatus

log = logging.getLogger(__name__)
STANDBY = "standing by: another replica runs this trigger"


class ElectedTrigger:
    """Runs ``make()``'s trigger while this replica holds ``lease``."""

    def __init__(
        self, name: str, make: Callable[[], Trigger], lease: Lease, *, interval: float = 2.0
    ) -> None:
        self._name = name
        self._make = make
        self._lease = lease
        self.interval = interval
        self._running: Trigger | None = None
        self._task: asyncio.Task[None] | None = None
        self._status = TriggerStatus(TriggerState.STOPPED)

    @property
    def name(self) -> str:
        return self._name

    @property
    def leading(self) -> bool:
        return self._running is not None

    def status(self) -> TriggerStatus:
        if self._running is not None:
            return self._running.status()
        return self._status

    async def start(self, sink: Sink) -> None:
        self._status = TriggerStatus(TriggerState.STOPPED, STANDBY)
        self._task = asyncio.create_task(self._lead(sink), name=f"elected:{self._name}")

    async def stop(self, *, drain_timeout: float = 30.0) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._step_down(drain_timeout)
        self._status = TriggerStatus(TriggerState.STOPPED)

    async def _lead(self, sink: Sink) -> None:
        while True:
            if self._running is None:
                if await self._lease.acquire():
                    log.info("trigger %s: this replica runs it now", self._name)
                    trigger = self._make()
                    await trigger.start(sink)
                    self._running = trigger
            elif not await self._lease.still_held():
                log.warning("trigger %s: lease lost; stopping it here", self._name)
                await self._step_down(drain_timeout=5.0)
                self._status = TriggerStatus(TriggerState.STOPPED, STANDBY)
            await asyncio.sleep(self.interval)

    async def _step_down(self, drain_timeout: float) -> None:
        trigger, self._running = self._running, None
        if trigger is not None:
            with contextlib.suppress(Exception):
                await trigger.stop(drain_timeout=drain_timeout)
        await self._lease.release()
