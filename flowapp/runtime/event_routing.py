"""Events for the executions listening for them.

Executions listen with subscriptions (``routing.py`` holds those of the executions held
here). A published event goes to the bus when there is one, which brings it back through
``offer``; without a bus it is offered here at once. When other processes share the
store, the bus hands each event to one of them only, so an event is also queued through
the store for the listening executions held elsewhere, or by nobody for now.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from flowapp.engine.signals import EventArrived, Signal, signal_to_json
from flowapp.runtime.committer import GroupCommitter
from flowapp.runtime.live import LiveExecution
from flowapp.runtime.routing import EventRouter
from flowapp.store.port import Store

Publish = Callable[[dict[str, Any]], Awaitable[None]]


class EventRouting:
    def __init__(
        self,
        store: Store,
        committer: GroupCommitter,
        *,
        router: EventRouter,
        held: Mapping[str, LiveExecution],
        deliver: Callable[[str, Signal], bool],
        publish: Publish | None,
        clock: Callable[[], float],
    ) -> None:
        self._store = store
        self._committer = committer
        self._router = router
        self._held = held
        self._deliver = deliver
        self._publish = publish
        self._clock = clock
        # Set when the runtime starts to scale out: other processes hold executions too.
        self.shares_store = False

    async def publish(self, event: dict[str, Any]) -> None:
        """Publish an event: to the bus when there is one (which brings it back through
        ``offer``), else straight to the executions listening for it."""
        if self._publish is not None:
            await self._publish(event)
        else:
            await self.offer(event)

    async def offer(self, event: dict[str, Any]) -> int:
        """Offer an event to every execution listening for it; how many may want it.

        Those held here get it at once. When other processes share the store, an event
        reaches only one of them (the bus hands each event to one subscriber), so it is
        also queued through the store for the listening executions held elsewhere, or by
        nobody for now: whoever holds them picks it up as a signal."""
        if not self.shares_store:
            return self.route(event)
        held_here = set(self._held)  # before any await: these have been offered it here
        offered = self.route(event)
        matching = await self._committer.run_in_writer(self._store.subscriptions_matching, event)
        elsewhere = [sub for sub in matching if sub.execution_id not in held_here]
        if elsewhere:
            now = self._clock()

            def queue() -> None:
                for sub in elsewhere:
                    signal = signal_to_json(EventArrived(sub.effect_id, event))
                    self._store.send_signal(sub.execution_id, signal, now=now)

            await self._committer.run_in_writer(queue)
        return offered + len(elsewhere)

    def route(self, event: dict[str, Any]) -> int:
        """Offer an event to the executions listening here; how many may want it."""
        listeners = self._router.route(event)
        for listener in listeners:
            self._deliver(listener.execution_id, EventArrived(listener.effect_id, event))
        return len(listeners)
