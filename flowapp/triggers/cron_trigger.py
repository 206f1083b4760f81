"""The running ``cron`` trigger: sleeps until each fire time and hands the event to the sink.

Data flow: on start, ``CronState.load`` gives the last handled instant; ``plan_catch_up``
says which missed fires to make (see ``cron.py``); then, forever, ``next_fire`` -> sleep ->
``cron_event`` -> sink -> ``CronState.save(fire)``. The state is saved only after the sink
returned, so a fire that failed every retry is caught up by the policy on the next start.
A first start (no state) records "now" so later downtime is noticed.

Time comes from a :class:`Clock` (the system clock by default; tests pass a fake) and the
platform provides the :class:`CronState` (a store table; :class:`MemoryCronState` here).
A sink failure is retried with the trigger's backoff up to ``maxRedeliveries`` times; cron
has no dead-letter destination, so a fire that still fails is logged and given up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Protocol

from flowapp.triggers.base import Backoff, Sink, TriggerConfig, TriggerState, TriggerStatus
from flowapp.triggers.cron import CronConfig, cron_event, next_fire, plan_catch_up
from flowapp.triggers.errors import TriggerError
from flowapp.triggers.metrics import UNOBSERVED, TriggerObserver

log = logging.getLogger("flowapp.triggers")
STATE_RETRY = Backoff(delay=0.5, maximum=30.0)


class CronState(Protocol):
    """Where the platform keeps each cron trigger's last handled instant."""

    async def load(self, trigger: str) -> datetime | None: ...

    async def save(self, trigger: str, instant: datetime) -> None: ...


class MemoryCronState:
    """A :class:`CronState` in a dict: for tests and for one process that never restarts."""

    def __init__(self, initial: dict[str, datetime] | None = None) -> None:
        self.instants: dict[str, datetime] = dict(initial or {})

    async def load(self, trigger: str) -> datetime | None:
        return self.instants.get(trigger)

    async def save(self, trigger: str, instant: datetime) -> None:
        self.instants[trigger] = instant


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def sleep_until(clock: Clock, instant: datetime) -> None:
    # Sleep in bounded steps: a suspended machine or a clock step must not delay a fire
    # by the whole remaining interval.
    while (remaining := (instant - clock.now()).total_seconds()) > 0:
        await clock.sleep(min(remaining, 30.0))


class CronTrigger:
    """A cron trigger; ``config.source`` is a :class:`CronConfig`."""

    def __init__(
        self,
        config: TriggerConfig,
        *,
        state: CronState,
        clock: Clock | None = None,
        observer: TriggerObserver = UNOBSERVED,
    ) -> None:
        self._config = config
        self._observer = observer
        self._cron: CronConfig = config.source
        self._state = state
        self._clock = clock or SystemClock()
        self._status = TriggerStatus(TriggerState.STOPPED)
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()  # cleared while a sink call is in progress
        self._idle.set()
        self._sink: Sink | None = None

    @property
    def name(self) -> str:
        return self._config.name

    def status(self) -> TriggerStatus:
        return self._status

    async def start(self, sink: Sink) -> None:
        if self._task is not None:
            raise TriggerError(f"trigger {self.name} was already started")
        self._sink = sink
        self._status = TriggerStatus(TriggerState.CONNECTING)
        self._task = asyncio.create_task(self._run(), name=f"trigger:{self.name}")

    async def stop(self, *, drain_timeout: float = 30.0) -> None:
        task, self._task = self._task, None
        if task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), timeout=drain_timeout)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._status = TriggerStatus(TriggerState.STOPPED)

    async def _run(self) -> None:
        now = self._clock.now()
        last = await self._load()
        self._status = TriggerStatus(TriggerState.READY)
        if last is None or self._cron.catch_up == "none":
            await self._save(now)
        for fire in plan_catch_up(self._cron, last=last, now=now):
            await self._fire(fire)
        cursor = max(now, last) if last is not None else now
        while True:
            fire = next_fire(self._cron, cursor)
            await sleep_until(self._clock, fire)
            await self._fire(fire)
            cursor = fire

    async def _load(self) -> datetime | None:
        attempt = 0
        while True:
            try:
                return await self._state.load(self.name)
            except Exception as exc:  # the platform's store: retry until it answers
                attempt += 1
                self._status = TriggerStatus(TriggerState.CONNECTING, f"cron state: {exc!r}")
                await self._clock.sleep(STATE_RETRY.delay_for(attempt))

    async def _save(self, instant: datetime) -> None:
        try:
            await self._state.save(self.name, instant)
        except Exception:  # losing one checkpoint only widens the next catch-up window
            log.exception("trigger %s: could not save the cron state", self.name)

    async def _fire(self, fire: datetime) -> None:
        event = cron_event(
            name=self.name, config=self._cron, fire=fire, event_type=self._config.type
        )
        for attempt in range(1, self._config.max_redeliveries + 2):
            if await self._deliver(event):
                await self._save(fire)
                return
            if attempt <= self._config.max_redeliveries:
                self._observer.redelivered()
                await self._clock.sleep(self._config.backoff.delay_for(attempt))
        self._observer.dead_lettered()
        log.error("trigger %s: giving up the fire %s", self.name, event["id"])

    async def _deliver(self, event: dict[str, object]) -> bool:
        if self._sink is None:
            raise TriggerError(f"trigger {self.name} fired before start()")
        self._idle.clear()
        try:
            await self._sink(event)
        except Exception as exc:  # any sink failure means "not processed"
            log.warning("trigger %s: sink failed for %s: %r", self.name, event["id"], exc)
            return False
        finally:
            self._idle.set()
        return True
