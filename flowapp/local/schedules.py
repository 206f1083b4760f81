"""The workflow's own ``schedule.on`` and ``schedule.after`` (``cron`` and ``every`` are
cron triggers, see ``triggers.py``).

``on``: a subscription on the event bus; every event with the exact attribute values of
one of the ``one`` / ``any`` filters starts an execution whose input is ``[event]``, as the
spec says (deduplicated by the event's source and id). ``all`` would have to correlate
several events before starting one execution: not supported, and reported at start.
Filters on ``data`` expressions are not applied here (only exact attributes).

``after``: when an execution of the app completes, another starts that long after. The
pending start is kept in memory; after a restart the platform schedules it again from
the app's latest execution, if that one completed (``LocalPlatform.start``), keyed by
that execution so that it starts once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from flowapp.apps.model import FlowApp
from flowapp.dsl.durations import duration_seconds
from flowapp.events import Broker, Subscription, parse_trigger_filter

log = logging.getLogger(__name__)
Starter = Callable[[Any, str | None], Awaitable[str]]


def on_filter(strategy: dict[str, Any]) -> dict[str, Any] | None:
    """A bus filter (Knative ``filters`` dialect) for ``schedule.on``; None if unsupported."""
    if "one" in strategy:
        alternatives = [strategy["one"]]
    elif "any" in strategy:
        alternatives = list(strategy.get("any") or [])
    else:
        return None
    exact = [
        {k: v for k, v in (f.get("with") or {}).items() if isinstance(v, str) and k != "data"}
        for f in alternatives
    ]
    if not alternatives or any(not e for e in exact):
        return {"filters": []}  # every event
    return {"filters": [{"any": [{"exact": e} for e in exact]}]}


class EventSchedule:
    def __init__(self, app: FlowApp, start: Starter, broker: Broker) -> None:
        self.app = app
        self.start_execution = start
        self.broker = broker
        self.name = f"schedule-on/{app.name}"

    async def start(self) -> None:
        strategy = (self.app.workflow.get("schedule") or {}).get("on")
        if not strategy:
            return
        spec = on_filter(strategy)
        if spec is None:
            log.warning("%s: schedule.on with `all` is not supported; ignored", self.app.name)
            return

        async def deliver(event: dict[str, Any]) -> None:
            key = f"{self.app.name}/schedule-on/{event.get('source', '')}/{event.get('id')}"
            await self.start_execution([event], key)

        await self.broker.subscribe(Subscription(self.name, deliver, parse_trigger_filter(spec)))

    async def stop(self) -> None:
        if (self.app.workflow.get("schedule") or {}).get("on"):
            await self.broker.unsubscribe(self.name)


def after_delay(app: FlowApp) -> float | None:
    after = (app.workflow.get("schedule") or {}).get("after")
    return duration_seconds(after) if after is not None else None


def schedule_again(
    delay: float, start: Callable[[], Coroutine[Any, Any, Any]]
) -> asyncio.TimerHandle:
    """Start the workflow again ``delay`` seconds from now (``schedule.after``); the
    handle cancels it (the app was deleted or the platform stops)."""
    loop = asyncio.get_running_loop()

    def fire() -> None:
        task = loop.create_task(start())
        task.add_done_callback(_log_failure)

    return loop.call_later(delay, fire)


@dataclass(eq=False, kw_only=True)
class AfterChains:
    """Each app's pending ``schedule.after`` start (one at a time), and the chains to take
    up again after a restart.

    ``delay_of(app)``: the delay of the app's serving revision (None: it has no
    ``schedule.after``); ``start(app, key)``: start an execution with that dedupe key;
    ``latest(app)``: the app's newest execution (blocking, run in a thread). A start is
    keyed by the execution that completed, so however many processes schedule it, one
    next execution starts."""

    delay_of: Callable[[str], float | None]
    start: Callable[[str, str], Coroutine[Any, Any, Any]]
    latest: Callable[[str], Any]
    clock: Callable[[], float]
    pending: dict[str, asyncio.TimerHandle] = field(default_factory=dict, init=False)

    def completed(self, app: str, execution_id: str, *, elapsed: float = 0.0) -> None:
        """``execution_id`` of ``app`` completed ``elapsed`` seconds ago: start the next."""
        delay = self.delay_of(app)
        if delay is None:
            return
        key = f"{app}/schedule-after/{execution_id}"
        self.pending[app] = schedule_again(max(0.0, delay - elapsed), lambda: self.start(app, key))

    async def resume(self, app: str) -> None:
        """After a restart: the start the app's last completed execution scheduled was
        lost with the process; schedule it again (at once if it is overdue)."""
        latest = await asyncio.to_thread(self.latest, app)
        if latest is not None and latest.status == "completed":
            elapsed = self.clock() - (latest.ended_at or 0.0)
            self.completed(app, latest.id, elapsed=elapsed)

    def cancel(self, app: str) -> None:
        handle = self.pending.pop(app, None)
        if handle is not None:
            handle.cancel()

    def stop(self) -> None:
        for app in list(self.pending):
            self.cancel(app)


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        # repr: some exceptions (a timeout) have no message of their own
        log.warning("schedule.after: the next execution could not start: %r", task.exception())
