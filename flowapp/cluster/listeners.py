"""Events the Broker delivers for the app's ``listen`` tasks and ``schedule.on``.

On one machine the event bus hands an event to the runtime in process; on a cluster the
Broker posts it to one replica, which may hold none of the executions waiting for it.
So every listening execution the database knows (``subscriptions_matching``) gets the
event as a stored signal, whichever replica holds it (the holder polls its signals), in
the same transaction-backed queue the replicas already use to signal each other: once
``deliver`` returns, the event is durable. ``schedule.on`` starts an execution whose input
is ``[event]``, as the spec says, deduplicated by the event's source and id, as
``flowapp up`` does (``flowapp.local.schedules``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from flowapp.apps.model import FlowApp
from flowapp.engine.signals import EventArrived, signal_to_json
from flowapp.events.filters import Filter, matches, parse_trigger_filter
from flowapp.local.schedules import on_filter
from flowapp.runtime.runtime import Runtime

Start = Callable[[Any, str | None], Awaitable[tuple[str, bool]]]


def schedule_on_filter(app: FlowApp) -> Filter | None:
    """The filter of the workflow's ``schedule.on``, if it has one this engine supports."""
    strategy = (app.workflow.get("schedule") or {}).get("on")
    spec = on_filter(strategy) if isinstance(strategy, dict) else None
    return parse_trigger_filter(spec) if spec is not None else None


class ListenerDelivery:
    def __init__(self, app: FlowApp, runtime: Runtime, start: Start) -> None:
        self.app = app
        self.runtime = runtime
        self.start = start
        self.schedule_on = schedule_on_filter(app)

    async def deliver(self, event: dict[str, Any]) -> dict[str, Any]:
        """Queue ``event`` for every execution that may wait for it, and start the
        ``schedule.on`` execution it calls for; what was done."""
        answer: dict[str, Any] = {"listeners": await self._queue(event)}
        if self.schedule_on is not None and matches(self.schedule_on, event):
            key = f"{self.app.name}/schedule-on/{event.get('source', '')}/{event['id']}"
            execution_id, duplicate = await self.start([event], key)
            answer["started"] = {"id": execution_id, "duplicate": duplicate}
        return answer

    async def _queue(self, event: dict[str, Any]) -> int:
        runtime = self.runtime
        store = runtime.store
        matching = await runtime.committer.run_in_writer(store.subscriptions_matching, event)
        if not matching:
            return 0
        now = runtime.clock()

        def queue() -> None:
            for sub in matching:
                signal = signal_to_json(EventArrived(sub.effect_id, event))
                store.send_signal(sub.execution_id, signal, now=now)

        await runtime.committer.run_in_writer(queue)
        return len(matching)
