"""The per-subscription delivery loop of the store-backed broker.

One ``Dispatcher`` per subscription: it asks the store for due deliveries, runs up to
``subscription.concurrency`` attempts at once as tasks, and records each verdict. A slow
subscriber therefore only fills its own slots; other subscriptions have their own loops.

The loop sleeps until the earliest pending retry comes due, or until ``wake()``: the
broker wakes it when a publish adds deliveries, and a finished attempt wakes it to fill
the freed slot. The wakeup flag is cleared *before* the store is read, so a wake that
arrives during the read is never lost. Attempts cancelled by ``stop()`` are simply not
recorded: the delivery stays pending and a restarted broker makes it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from flowapp.events.attempt import PublishReply, run_attempt
from flowapp.events.errors import EventsError
from flowapp.events.sender import Sender
from flowapp.events.store import BrokerStore, PendingDelivery, Settlement
from flowapp.events.subscription import Subscription

log = logging.getLogger(__name__)

STORE_RETRY_SECONDS = 1.0
"""Pause after a storage failure, so a broken store is not polled in a hot loop."""


class Dispatcher:
    def __init__(
        self,
        subscription: Subscription,
        *,
        store: BrokerStore,
        sender: Sender,
        publish_reply: PublishReply,
        clock: Callable[[], float],
    ) -> None:
        self.subscription = subscription
        self._store = store
        self._sender = sender
        self._publish_reply = publish_reply
        self._clock = clock
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        name = f"flowapp-events:{self.subscription.name}"
        self._task = asyncio.create_task(self._run(), name=name)

    def wake(self) -> None:
        self._wakeup.set()

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self._inflight.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._task = None

    async def _run(self) -> None:
        while True:
            self._wakeup.clear()
            try:
                next_at = await self._fill()
            except EventsError as exc:
                log.warning("subscription %s: %s", self.subscription.name, exc)
                next_at = self._clock() + STORE_RETRY_SECONDS
            await self._sleep(next_at)

    async def _fill(self) -> float | None:
        """Start attempts for due deliveries in the free slots; when to look again."""
        free = self.subscription.concurrency - len(self._inflight)
        if free <= 0:
            return None  # a finishing attempt wakes the loop
        limit = free + len(self._inflight)  # in-flight rows are still due: fetch past them
        due = await self._store.due(self.subscription.name, now=self._clock(), limit=limit)
        for delivery in due.deliveries:
            if free and delivery.seq not in self._inflight:
                self._spawn(delivery)
                free -= 1
        return due.next_at

    async def _sleep(self, next_at: float | None) -> None:
        timeout = None if next_at is None else max(0.0, next_at - self._clock())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), timeout)

    def _spawn(self, delivery: PendingDelivery) -> None:
        task = asyncio.create_task(self._attempt(delivery))
        self._inflight[delivery.seq] = task
        task.add_done_callback(lambda _: self._finished(delivery.seq))

    def _finished(self, seq: int) -> None:
        self._inflight.pop(seq, None)
        self.wake()

    async def _attempt(self, delivery: PendingDelivery) -> None:
        subscription = self.subscription
        try:
            verdict = await run_attempt(
                subscription,
                delivery.event,
                failed_before=delivery.attempts,
                sender=self._sender,
                publish_reply=self._publish_reply,
            )
            now = self._clock()
            settlement = Settlement(
                subscription.name,
                delivery.seq,
                verdict.status,
                verdict.attempts,
                next_attempt_at=now + verdict.delay,
                error=verdict.error,
            )
            await self._store.settle(settlement, now=now)
        except EventsError as exc:
            # Unrecorded: the delivery stays due. Hold the slot a moment to avoid a hot loop.
            log.warning("subscription %s: %s", subscription.name, exc)
            await asyncio.sleep(STORE_RETRY_SECONDS)
