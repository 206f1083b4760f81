"""The broker: publish events, and deliver them to matching subscriptions (Knative Broker).

``Broker`` is the interface the rest of flowapp calls; ``open_broker`` (``factory.py``)
picks a backend from a URL. This module also holds the embedded backend, ``StoreBroker``,
which runs over a ``BrokerStore`` (in memory or SQLite):

    publish(event) -> validate -> match every subscription's filter
                   -> store.append(event, matching names)   (one transaction; dup -> no-op)
                   -> wake those subscriptions' dispatchers -> return
    Dispatcher     -> store.due -> attempt -> store.settle (delivered / retry at / dead)

A subscription receives the events published while it exists (as a Knative Trigger).
Delivery state is kept per subscription name, so after a restart, subscribing again
under the same name delivers what was still pending. Subscribe before accepting traffic:
events published while no subscription matches are kept only for duplicate detection.
Settled events are purged after ``dedupe_window`` seconds; that is also how long a
duplicate ``source`` + ``id`` is recognised.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Protocol

import httpx

from flowapp.events.cloudevents import Event, validate_event
from flowapp.events.dispatcher import Dispatcher
from flowapp.events.errors import BrokerError, EventsError
from flowapp.events.filters import matches
from flowapp.events.sender import Sender
from flowapp.events.store import BrokerStore, DeadLetter
from flowapp.events.subscription import Subscription

log = logging.getLogger(__name__)

DEDUPE_WINDOW = 600.0
"""Seconds during which a repeated ``source`` + ``id`` is recognised and dropped."""


class Broker(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, event: Event) -> None:
        """Durably accept an event (a duplicate is accepted and dropped)."""
        ...

    async def subscribe(self, subscription: Subscription) -> None:
        """Add a subscription, or update the one with the same name."""
        ...

    async def unsubscribe(self, name: str) -> None:
        """Delete a subscription and its undelivered events (a deleted Trigger)."""
        ...

    async def dead_letters(self, subscription: str | None = None) -> list[DeadLetter]:
        """Events given up on with no sink to take them (or a failing sink)."""
        ...


class StoreBroker:
    """The embedded broker over a ``BrokerStore``."""

    def __init__(
        self,
        store: BrokerStore,
        *,
        http_client: httpx.AsyncClient | None = None,
        dedupe_window: float = DEDUPE_WINDOW,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self._http_client = http_client
        self._dedupe_window = dedupe_window
        self._clock = clock
        self._subscriptions: dict[str, Subscription] = {}
        self._dispatchers: dict[str, Dispatcher] = {}
        self._sender: Sender | None = None
        self._purger: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._sender is not None:
            return
        await self.store.open()
        self._sender = Sender(self._http_client)
        for subscription in self._subscriptions.values():
            self._start_dispatcher(subscription, self._sender)
        self._purger = asyncio.create_task(self._purge_forever(), name="flowapp-events:purge")

    async def stop(self) -> None:
        if self._sender is None:
            return
        tasks = [d.stop() for d in self._dispatchers.values()]
        await asyncio.gather(*tasks)
        self._dispatchers.clear()
        if self._purger is not None:
            self._purger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._purger
        await self._sender.aclose()
        self._sender = None
        await self.store.close()

    async def publish(self, event: Event) -> None:
        if self._sender is None:
            raise BrokerError("the broker is not started")
        checked = validate_event(event)
        targets = [s.name for s in self._subscriptions.values() if matches(s.filter, checked)]
        if await self.store.append(checked, targets, now=self._clock()):
            for name in targets:
                self._dispatchers[name].wake()

    async def subscribe(self, subscription: Subscription) -> None:
        self._subscriptions[subscription.name] = subscription
        dispatcher = self._dispatchers.get(subscription.name)
        if dispatcher is not None:
            dispatcher.subscription = subscription  # applies from the next attempt on
        elif self._sender is not None:
            self._start_dispatcher(subscription, self._sender)

    async def unsubscribe(self, name: str) -> None:
        if self._sender is None:
            raise BrokerError("the broker is not started")
        self._subscriptions.pop(name, None)
        dispatcher = self._dispatchers.pop(name, None)
        if dispatcher is not None:
            await dispatcher.stop()
        await self.store.forget(name)

    async def dead_letters(self, subscription: str | None = None) -> list[DeadLetter]:
        if self._sender is None:
            raise BrokerError("the broker is not started")
        return await self.store.dead(subscription)

    def _start_dispatcher(self, subscription: Subscription, sender: Sender) -> None:
        dispatcher = Dispatcher(
            subscription,
            store=self.store,
            sender=sender,
            publish_reply=self.publish,
            clock=self._clock,
        )
        self._dispatchers[subscription.name] = dispatcher
        dispatcher.start()

    async def _purge_forever(self) -> None:
        interval = max(1.0, min(60.0, self._dedupe_window / 4))
        while True:
            await asyncio.sleep(interval)
            try:
                await self.store.purge(before=self._clock() - self._dedupe_window)
            except EventsError as exc:
                log.warning("could not purge settled events: %s", exc)
