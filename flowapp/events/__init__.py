"""The event bus: CloudEvents in, filtered deliveries out, with Knative Broker semantics.

    ingress (HTTP) ─┐
    runtime (emit) ─┴─> Broker.publish ─> store ─> per-subscription delivery
                                                    ├─ filter (filters.py)
                                                    ├─ attempt: HTTP binary mode or in process
                                                    ├─ retry with backoff (delivery.py)
                                                    ├─ reply events published back
                                                    └─ dead-letter sink, or recorded as dead

Backends (``open_broker(url)``): ``memory://``, ``sqlite:///PATH`` (embedded default) and
``nats://HOST:4222?stream=NAME`` (JetStream, several machines). See ``docs/events.md``.
This module pins the public names; the modules behind it may change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowapp.lazy import lazy_names

if TYPE_CHECKING:
    from flowapp.events.broker import Broker, StoreBroker
    from flowapp.events.cloudevents import (
        Event,
        from_http,
        from_json,
        new_event,
        to_binary,
        to_json,
        to_structured,
        validate_event,
    )
    from flowapp.events.delivery import (
        BackoffPolicy,
        Deliver,
        DeliverySpec,
        Subscriber,
        next_delay,
        parse_delivery,
    )
    from flowapp.events.errors import (
        BrokerError,
        EventsError,
        InvalidEvent,
        SpecError,
        StoreError,
        UnsupportedFormat,
    )
    from flowapp.events.factory import open_broker
    from flowapp.events.filters import Filter, matches, parse_trigger_filter
    from flowapp.events.store import BrokerStore, DeadLetter
    from flowapp.events.subscription import Subscription, parse_subscription

# Each name is imported from its module when first used (``flowapp.lazy``).
_HOMES = {
    "Broker": "flowapp.events.broker",
    "StoreBroker": "flowapp.events.broker",
    "Event": "flowapp.events.cloudevents",
    "from_http": "flowapp.events.cloudevents",
    "from_json": "flowapp.events.cloudevents",
    "new_event": "flowapp.events.cloudevents",
    "to_binary": "flowapp.events.cloudevents",
    "to_json": "flowapp.events.cloudevents",
    "to_structured": "flowapp.events.cloudevents",
    "validate_event": "flowapp.events.cloudevents",
    "BackoffPolicy": "flowapp.events.delivery",
    "Deliver": "flowapp.events.delivery",
    "DeliverySpec": "flowapp.events.delivery",
    "Subscriber": "flowapp.events.delivery",
    "next_delay": "flowapp.events.delivery",
    "parse_delivery": "flowapp.events.delivery",
    "BrokerError": "flowapp.events.errors",
    "EventsError": "flowapp.events.errors",
    "InvalidEvent": "flowapp.events.errors",
    "SpecError": "flowapp.events.errors",
    "StoreError": "flowapp.events.errors",
    "UnsupportedFormat": "flowapp.events.errors",
    "open_broker": "flowapp.events.factory",
    "Filter": "flowapp.events.filters",
    "matches": "flowapp.events.filters",
    "parse_trigger_filter": "flowapp.events.filters",
    "BrokerStore": "flowapp.events.store",
    "DeadLetter": "flowapp.events.store",
    "Subscription": "flowapp.events.subscription",
    "parse_subscription": "flowapp.events.subscription",
}

__all__ = [
    "BackoffPolicy",
    "Broker",
    "BrokerError",
    "BrokerStore",
    "DeadLetter",
    "Deliver",
    "DeliverySpec",
    "Event",
    "EventsError",
    "Filter",
    "InvalidEvent",
    "SpecError",
    "StoreBroker",
    "StoreError",
    "Subscriber",
    "Subscription",
    "UnsupportedFormat",
    "from_http",
    "from_json",
    "matches",
    "new_event",
    "next_delay",
    "open_broker",
    "parse_delivery",
    "parse_subscription",
    "parse_trigger_filter",
    "to_binary",
    "to_json",
    "to_structured",
    "validate_event",
]


__getattr__ = lazy_names(__name__, _HOMES)
