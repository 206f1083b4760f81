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
