"""The package surface: exported names, ``open_broker`` URLs, subscriptions from specs."""

from __future__ import annotations

import re
from typing import Any

import pytest

import flowapp.events
from flowapp.events import (
    BrokerError,
    SpecError,
    StoreBroker,
    Subscriber,
    Subscription,
    open_broker,
    parse_subscription,
)
from flowapp.events.delivery import DeliverySpec
from flowapp.events.filters import Exact
from flowapp.events.jetstream import JetStreamBroker, dedupe_id, durable_name
from flowapp.events.memory import MemoryStore
from flowapp.events.sqlite import SqliteStore


def test_exported_names_are_pinned() -> None:
    assert sorted(flowapp.events.__all__) == flowapp.events.__all__
    for name in flowapp.events.__all__:
        assert hasattr(flowapp.events, name), name


def test_open_broker_urls() -> None:
    memory = open_broker("memory://")
    assert isinstance(memory, StoreBroker) and isinstance(memory.store, MemoryStore)
    sqlite = open_broker("sqlite:////tmp/x/bus.db?synchronous=normal")
    assert isinstance(sqlite, StoreBroker) and isinstance(sqlite.store, SqliteStore)
    assert sqlite.store.path == "/tmp/x/bus.db"
    assert open_broker("sqlite:///bus.db").store.path == "bus.db"  # type: ignore[attr-defined]
    nats = open_broker("nats://127.0.0.1:4222,127.0.0.1:4223?stream=ORDERS")
    assert isinstance(nats, JetStreamBroker)
    assert nats.servers == ["nats://127.0.0.1:4222", "nats://127.0.0.1:4223"]
    assert (nats.stream, nats.subject) == ("ORDERS", "flowapp.ORDERS.events")
    assert open_broker("nats://u:p@h:1").servers == ["nats://u:p@h:1"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis://x", "unknown broker URL"),
        ("sqlite://", "names no database file"),
        ("sqlite:///x.db?synchronous=off", "synchronous"),
        ("nats://h:1?stream=a.b", "stream name"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(BrokerError, match=message):
        open_broker(url)


def test_consumer_names_are_safe_and_distinct() -> None:
    assert durable_name("orders") == "orders"
    assert durable_name("orders.eu") != durable_name("orders_eu")
    assert durable_name("a b*>").startswith("a_b__-")
    first = {"source": "/a", "id": "b/c"}
    assert dedupe_id(first) != dedupe_id({"source": "/a/b", "id": "c"})


def test_parse_subscription() -> None:
    async def display(event: dict[str, Any]) -> None:
        return None

    functions = {"display": display}
    subscription = parse_subscription(
        {
            "name": "show",
            "subscriber": "display",
            "filters": [{"exact": {"type": "order.created"}}],
            "delivery": {"retry": 2, "deadLetterSink": "http://127.0.0.1:9/dead"},
        },
        resolve=functions.__getitem__,
    )
    assert subscription == Subscription(
        "show",
        display,
        Exact("type", "order.created"),
        DeliverySpec(retry=2, dead_letter_sink="http://127.0.0.1:9/dead"),
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"name": "", "subscriber": "http://x/"}, "/name: must be a non-empty string"),
        ({"name": "a", "subscriber": "ftp://x"}, "/subscriber: no subscriber named `ftp://x`"),
        ({"name": "a", "subscriber": 42}, "/subscriber: must be an http(s) URL"),
        ({"name": "a", "subscriber": "nope"}, "no subscriber named `nope`"),
        ({"name": "a", "subscriber": "http://x/", "delivery": {"retry": -1}}, "/delivery/retry"),
        ({"name": "a", "subscriber": "http://x/", "filters": [{}]}, "/filters/0"),
    ],
)
def test_parse_subscription_errors(spec: dict[str, Any], message: str) -> None:
    nothing: dict[str, Subscriber] = {}
    with pytest.raises(SpecError, match=re.escape(message)):
        parse_subscription(spec, resolve=nothing.__getitem__)


def test_concurrency_must_be_positive() -> None:
    with pytest.raises(SpecError, match="/concurrency"):
        Subscription("a", "http://x/", concurrency=0)
