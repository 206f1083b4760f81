"""One subscription on JetStream: a durable pull consumer and its delivery loop.

Delivery state lives in JetStream, not here: the durable consumer (named after the
subscription) remembers what each subscription has acknowledged, so any process that
binds the same name, on any machine, continues where the last one stopped; several
processes bound to it share the work. The consumer's settings come from the
subscription:

- ``ack_policy=explicit``; ``max_ack_pending`` = the subscription's concurrency;
- ``ack_wait`` = room for one attempt plus a dead-letter send (``2 * timeout + 5 s``), so
  a message is redelivered only when its process died mid-attempt;
- ``max_deliver`` = ``retry + 1`` attempts plus ``REDELIVERY_GRACE`` redeliveries for
  attempts cut short by a crash (JetStream counts those too);
- ``deliver_policy=new``: a new subscription sees events published after it exists.

Per message: events the filter rejects are acked at once. Otherwise the attempt's
verdict decides: delivered or dead-lettered -> ack; retry -> ``nak(delay)`` with the
Knative backoff (attempt number = JetStream's ``num_delivered``); dead -> a record on
the dead-letter stream, then ack. Stopping unsubscribes first (so no lingering pull
request can catch a redelivery), then naks the attempts in flight for another process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from flowapp.events.attempt import PublishReply, Verdict, run_attempt
from flowapp.events.cloudevents import Event, from_json
from flowapp.events.errors import EventsError
from flowapp.events.filters import matches
from flowapp.events.sender import Sender
from flowapp.events.store import Status
from flowapp.events.subscription import Subscription

log = logging.getLogger(__name__)

REDELIVERY_GRACE = 2
FETCH_WAIT = 1.0
RecordDead = Callable[[Subscription, Event, Verdict], Awaitable[None]]


def consumer_config(subscription: Subscription, *, durable: str, subject: str) -> ConsumerConfig:
    """The durable consumer that carries a subscription's delivery state. Pure."""
    spec = subscription.delivery
    return ConsumerConfig(
        durable_name=durable,
        description=f"flowapp subscription {subscription.name}",
        deliver_policy=DeliverPolicy.NEW,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=2 * spec.attempt_timeout + 5.0,
        max_deliver=spec.retry + 1 + REDELIVERY_GRACE,
        max_ack_pending=subscription.concurrency,
        filter_subject=subject,
    )


class ConsumerLoop:
    def __init__(
        self,
        subscription: Subscription,
        *,
        js: JetStreamContext,
        stream: str,
        durable: str,
        sender: Sender,
        publish_reply: PublishReply,
        record_dead: RecordDead,
    ) -> None:
        self.subscription = subscription
        self.durable = durable
        self._js, self._stream = js, stream
        self._sender, self._publish_reply, self._record_dead = sender, publish_reply, record_dead
        self._inflight: set[asyncio.Task[None]] = set()
        self._slot_freed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._psub: JetStreamContext.PullSubscription | None = None

    async def start(self) -> None:
        self._psub = await self._js.pull_subscribe_bind(durable=self.durable, stream=self._stream)
        self._task = asyncio.create_task(self._run(), name=f"flowapp-events:{self.durable}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._psub is not None:
            with contextlib.suppress(NatsError):
                await self._psub.unsubscribe()
        for task in self._inflight:
            task.cancel()
        await asyncio.gather(*self._inflight, return_exceptions=True)
        self._task = self._psub = None

    async def _run(self) -> None:
        while True:
            self._slot_freed.clear()
            free = self.subscription.concurrency - len(self._inflight)
            if free <= 0:
                await self._slot_freed.wait()
                continue
            for msg in await self._fetch(free):
                self._spawn(msg)

    async def _fetch(self, batch: int) -> list[Msg]:
        if self._psub is None:
            return []
        try:
            return await self._psub.fetch(batch, timeout=FETCH_WAIT)
        except NatsTimeoutError:
            return []
        except NatsError as exc:
            log.warning("subscription %s: fetch failed: %s", self.subscription.name, exc)
            await asyncio.sleep(FETCH_WAIT)
            return []

    def _spawn(self, msg: Msg) -> None:
        task = asyncio.create_task(self._handle(msg))
        self._inflight.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._slot_freed.set()

    async def _handle(self, msg: Msg) -> None:
        try:
            await self._settle(msg)
        except asyncio.CancelledError:
            with contextlib.suppress(NatsError):
                await msg.nak()  # stopped mid-attempt: hand it to another process now
            raise
        except (NatsError, EventsError) as exc:
            log.warning("subscription %s: %s", self.subscription.name, exc)

    async def _settle(self, msg: Msg) -> None:
        subscription = self.subscription
        event = _decode(msg)
        if event is None:
            await msg.term()
            return
        if not matches(subscription.filter, event):
            await msg.ack()
            return
        verdict = await run_attempt(
            subscription,
            event,
            failed_before=msg.metadata.num_delivered - 1,
            sender=self._sender,
            publish_reply=self._publish_reply,
        )
        if verdict.status is Status.PENDING:
            await msg.nak(delay=verdict.delay)
            return
        if verdict.status is Status.DEAD:
            await self._record_dead(subscription, event, verdict)
        await msg.ack()


def _decode(msg: Msg) -> Event | None:
    try:
        return from_json(msg.data)
    except (ValueError, EventsError) as exc:
        log.error("dropping a message that is not a stored event: %s", exc)
        return None
