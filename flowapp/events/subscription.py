"""Subscriptions: what Knative calls a Trigger (a filter, a subscriber, delivery options).

The name ``Subscription`` avoids a clash with FlowApp *triggers*, which are event sources.
A subscription's ``name`` is its durable identity: delivery state (and, on JetStream, the
durable consumer) is kept under it, so a process that subscribes again under the same
name after a restart picks up what was not yet delivered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flowapp.dsl.problems import Problem, join_pointer
from flowapp.events.delivery import DeliverySpec, SinkResolver, Subscriber, is_url, parse_delivery
from flowapp.events.errors import SpecError
from flowapp.events.filters import MATCH_ALL, Filter, parse_trigger_filter

DEFAULT_CONCURRENCY = 8
"""Attempts in flight at once for one subscription, so one slow subscriber stays bounded."""


@dataclass(frozen=True, slots=True)
class Subscription:
    """Deliver events that pass ``filter`` to ``subscriber``, per ``delivery``."""

    name: str
    subscriber: Subscriber
    filter: Filter = MATCH_ALL
    delivery: DeliverySpec = field(default_factory=DeliverySpec)
    concurrency: int = DEFAULT_CONCURRENCY

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise SpecError(problems)


def _problems(subscription: Subscription) -> list[Problem]:
    problems = []
    if not subscription.name or not isinstance(subscription.name, str):
        problems.append(Problem("/name", "must be a non-empty string"))
    subscriber = subscription.subscriber
    if not callable(subscriber) and not (isinstance(subscriber, str) and is_url(subscriber)):
        problems.append(Problem("/subscriber", "must be an http(s) URL or a coroutine function"))
    if subscription.concurrency < 1:
        problems.append(Problem("/concurrency", "must be at least 1"))
    return problems


def parse_subscription(
    spec: Mapping[str, Any], *, resolve: SinkResolver | None = None, pointer: str = ""
) -> Subscription:
    """A subscription from its resource form.

    ``{name, subscriber, filter: {attributes}, filters: [...], delivery: {...}}``; the
    subscriber and dead-letter sink are URLs or names that ``resolve`` turns into
    subscribers.
    """
    subscriber = spec.get("subscriber")
    if isinstance(subscriber, str) and not is_url(subscriber) and resolve is not None:
        try:
            subscriber = resolve(subscriber)
        except LookupError:
            where = join_pointer(pointer, "subscriber")
            raise SpecError([Problem(where, f"no subscriber named `{subscriber}`")]) from None
    return Subscription(
        name=spec.get("name", ""),
        subscriber=subscriber,  # type: ignore[arg-type]  # checked in __post_init__
        filter=parse_trigger_filter(spec, pointer=pointer),
        delivery=parse_delivery(
            spec.get("delivery"), pointer=join_pointer(pointer, "delivery"), resolve=resolve
        ),
    )
