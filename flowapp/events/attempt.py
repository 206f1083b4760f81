"""One attempt and its verdict; shared by the SQLite/memory broker and the JetStream broker.

``run_attempt`` delivers an event to a subscription's subscriber, publishes a reply back
to the broker (Knative's reply semantics), and turns the outcome into a ``Verdict``:
delivered, retry after a delay, dead-lettered (the sink took it), or dead (no sink, or
the sink failed too). Each backend then records the verdict its own way: the store
broker settles a delivery row; the JetStream broker acks or naks the message.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from flowapp.events.cloudevents import Event
from flowapp.events.delivery import retry_delay
from flowapp.events.errors import EventsError
from flowapp.events.sender import Outcome, Sender, failure
from flowapp.events.store import Status
from flowapp.events.subscription import Subscription

log = logging.getLogger(__name__)

PublishReply = Callable[[Event], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Verdict:
    status: Status
    attempts: int
    delay: float = 0.0
    error: str = ""


async def run_attempt(
    subscription: Subscription,
    event: Event,
    *,
    failed_before: int,
    sender: Sender,
    publish_reply: PublishReply,
) -> Verdict:
    """Attempt delivery once more, after ``failed_before`` failed attempts."""
    spec = subscription.delivery
    outcome = await sender.deliver(subscription.subscriber, event, timeout=spec.attempt_timeout)
    if outcome.ok and outcome.reply is not None:
        outcome = await _forward_reply(subscription, outcome.reply, publish_reply)
    attempts = failed_before + 1
    if outcome.ok:
        return Verdict(Status.DELIVERED, attempts)
    delay = retry_delay(spec, attempts, retryable=outcome.retryable)
    if delay is not None:
        return Verdict(Status.PENDING, attempts, delay, outcome.error)
    reason = await sender.dead_letter(subscription, event, outcome)
    if reason is None:
        return Verdict(Status.DEAD_LETTERED, attempts, error=outcome.error)
    log.warning("subscription %s: event is dead: %s", subscription.name, reason)
    return Verdict(Status.DEAD, attempts, error=reason)


async def _forward_reply(
    subscription: Subscription, reply: Event, publish_reply: PublishReply
) -> Outcome:
    """Publish a reply; a bad reply is dropped, a storage failure fails the attempt."""
    try:
        await publish_reply(reply)
    except EventsError as exc:
        if exc.retryable:
            return failure(f"could not publish the reply: {exc}")
        log.warning("subscription %s: dropping an invalid reply: %s", subscription.name, exc)
    return Outcome(ok=True)
