"""The generic broker trigger: lifecycle, reconnects, back-pressure, retries, dead letters.

Every broker kind is a :class:`~flowapp.triggers.base.Source`; :class:`BrokerTrigger`
drives it::

    supervise:  open --ready--> consume ... (connection lost) --> close, back off, open
    consume:    wait for free slots --> source.receive(free) --> one task per message
    per message: describe --> too large? --> to_cloudevent --> sink
                 sink returned      --> ack
                 sink raised        --> redeliver (nak / requeue / retry in process)
                 past the limit     --> dead_letter, then ack

A message is acknowledged only after the sink returned or after its dead letter was
published durably; any failure in between leaves it unacknowledged, so the broker
delivers it again (at least once; the sink dedupes by event id). The trigger never
raises into its caller because a broker is down: it reports ``connecting`` with the last
error and retries with capped exponential backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from typing import Generic, TypeVar

from flowapp.triggers.base import (
    Backoff,
    DeadLetter,
    Incoming,
    Sink,
    Source,
    TriggerConfig,
    TriggerState,
    TriggerStatus,
)
from flowapp.triggers.errors import EventMappingError, TriggerError
from flowapp.triggers.events import to_cloudevent
from flowapp.triggers.inflight import InFlight
from flowapp.triggers.metrics import UNOBSERVED, TriggerObserver

log = logging.getLogger("flowapp.triggers")

M = TypeVar("M")
RECONNECT = Backoff(delay=0.5, policy="exponential", maximum=30.0)


class _Retry:
    """The outcome "leave the message for another delivery"."""


RETRY = _Retry()


class BrokerTrigger(Generic[M]):
    """A trigger reading from one broker through ``source``."""

    def __init__(
        self,
        config: TriggerConfig,
        source: Source[M],
        *,
        reconnect: Backoff = RECONNECT,
        observer: TriggerObserver = UNOBSERVED,
    ) -> None:
        self._config = config
        self._source = source
        self._observer = observer
        self._reconnect = reconnect
        self._slots = InFlight(config.max_in_flight)
        self._handlers: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self._drain_timeout = 30.0
        self._state = TriggerState.STOPPED
        self._error: str | None = None
        self._sink: Sink | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return self._config.name

    @property
    def source(self) -> Source[M]:
        return self._source

    @property
    def config(self) -> TriggerConfig:
        return self._config

    def status(self) -> TriggerStatus:
        return TriggerStatus(self._state, self._error)

    async def start(self, sink: Sink) -> None:
        if self._task is not None:
            raise TriggerError(f"trigger {self.name} was already started")
        self._sink = sink
        self._state = TriggerState.CONNECTING
        self._task = asyncio.create_task(self._supervise(), name=f"trigger:{self.name}")

    async def stop(self, *, drain_timeout: float = 30.0) -> None:
        self._drain_timeout = drain_timeout
        self._stopping.set()
        if self._task is not None:
            await self._task
        self._state = TriggerState.STOPPED

    async def _supervise(self) -> None:
        failures = 0
        try:
            while not self._stopping.is_set():
                try:
                    failures = 0 if await self._session() else failures
                except Exception as exc:  # a trigger must outlive driver bugs, not only I/O
                    failures += 1
                    self._connection_lost(exc)
                    await self._source.close()
                await self._pause(self._reconnect.delay_for(failures))
        finally:
            await self._source.close()
            self._state = TriggerState.STOPPED

    async def _session(self) -> bool:
        """One connection's life; True if it got ready. Raises when the connection fails."""
        self._state = TriggerState.CONNECTING
        if not await self._until_stopped(self._source.open()):
            return False
        self._state, self._error = TriggerState.READY, None
        log.info("trigger %s: ready", self.name)
        try:
            # _consume ends by raising (connection lost) or, once stopping, by cancellation.
            await self._until_stopped(self._consume())
        finally:
            await self._drain()
            await self._source.close()
        return True

    async def _until_stopped(self, work: Awaitable[None]) -> bool:
        """Await ``work`` unless stop() comes first (then cancel it); True if it finished."""
        task = asyncio.ensure_future(work)
        stopper = asyncio.create_task(self._stopping.wait())
        try:
            await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, TriggerError):
                    await task
        if task.cancelled():
            return False
        task.result()  # re-raise the error it ended with
        return True

    async def _consume(self) -> None:
        # Stop is a cancellation, but the flag is checked too: a driver that swallows a
        # cancellation (redis-py 8.1 can, mid-command) then delays stop by one poll only.
        while not self._stopping.is_set():
            free = await self._slots.wait_free()
            batch = await self._source.receive(free)
            for message in batch:
                self._slots.take()
                task = asyncio.create_task(self._handle(message))
                self._handlers.add(task)
                task.add_done_callback(self._handlers.discard)

    async def _drain(self) -> None:
        """Wait for in-flight messages; cancel them (unacknowledged) after the timeout."""
        if not await self._slots.wait_idle(self._drain_timeout):
            log.warning("trigger %s: cancelling %d in-flight", self.name, len(self._handlers))
            for task in list(self._handlers):
                task.cancel()
            await asyncio.gather(*self._handlers, return_exceptions=True)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    def _connection_lost(self, exc: BaseException) -> None:
        self._state, self._error = TriggerState.CONNECTING, f"{type(exc).__name__}: {exc}"
        if isinstance(exc, TriggerError):
            log.warning("trigger %s: %s", self.name, exc)
        else:
            log.exception("trigger %s: unexpected error", self.name, exc_info=exc)

    async def _handle(self, message: M) -> None:
        try:
            await self._process(message)
        except TriggerError as exc:
            # The message stays unacknowledged; the broker delivers it again.
            log.warning("trigger %s: %s", self.name, exc)
        except Exception:
            log.exception("trigger %s: unexpected error handling a message", self.name)
        finally:
            self._slots.release()

    async def _process(self, message: M | None) -> None:
        while message is not None:
            incoming = self._source.describe(message)
            outcome = await self._deliver(incoming)
            if outcome is None:
                await self._source.ack(message)
                return
            if isinstance(outcome, str) and await self._dead_letter(message, incoming, outcome):
                self._observer.dead_lettered()
                await self._source.ack(message)
                return
            self._observer.redelivered()
            delay = self._config.backoff.delay_for(incoming.deliveries)
            message = await self._source.redeliver(message, delay)

    async def _deliver(self, incoming: Incoming) -> str | _Retry | None:
        """None when the sink took the event, else a dead-letter reason or RETRY."""
        if len(incoming.body) > self._config.max_bytes:
            return f"too large: {len(incoming.body)} bytes > maxBytes {self._config.max_bytes}"
        try:
            event = to_cloudevent(incoming, self._config)
        except EventMappingError as exc:
            return str(exc)
        if self._sink is None:
            raise TriggerError(f"trigger {self.name} delivered before start()")
        try:
            await self._sink(event)
        except Exception as exc:  # any sink failure means "not processed"
            log.info("trigger %s: sink failed for %s: %r", self.name, incoming.id, exc)
            if incoming.deliveries > self._config.max_redeliveries:
                return f"sink failed {incoming.deliveries} times, last: {type(exc).__name__}: {exc}"
            return RETRY
        return None

    async def _dead_letter(self, message: M, incoming: Incoming, reason: str) -> bool:
        letter = DeadLetter(
            reason=reason,
            trigger=self.name,
            event_id=incoming.id,
            source=incoming.source,
            deliveries=incoming.deliveries,
        )
        try:
            await self._source.dead_letter(message, letter)
        except TriggerError as exc:
            log.warning("trigger %s: dead letter for %s failed: %s", self.name, incoming.id, exc)
            return False
        log.warning("trigger %s: dead-lettered %s: %s", self.name, incoming.id, reason)
        return True
