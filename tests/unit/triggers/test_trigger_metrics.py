"""Trigger metrics: redeliveries and dead letters counted by the runner and the cron
trigger, lag from an event's time, and the connected gauge read at scrape."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry

from flowapp.triggers import Backoff, TriggerConfig, TriggerState, TriggerStatus
from flowapp.triggers.cron import CronConfig
from flowapp.triggers.cron_trigger import CronTrigger, MemoryCronState
from flowapp.triggers.metrics import TriggerMetrics, event_lag
from flowapp.triggers.runner import BrokerTrigger
from flowapp.triggers.testing import MemorySource, RecordingSink, eventually

LABELS = {"app": "shop", "trigger": "orders"}


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, LABELS | labels)


async def test_the_runner_counts_redeliveries_and_dead_letters() -> None:
    registry = CollectorRegistry()
    metrics = TriggerMetrics(registry)
    source, sink = MemorySource(), RecordingSink(fail_always=True)
    config = TriggerConfig(
        name="orders", kind="memory", source=None, max_redeliveries=2, backoff=Backoff(0.001)
    )
    trigger = BrokerTrigger(config, source, observer=metrics.observer("shop", "orders"))  # type: ignore[arg-type]
    assert value(registry, "flowapp_trigger_dead_letters_total") == 0  # shown from the start
    source.publish(b"1")
    await trigger.start(sink)
    await eventually(lambda: len(source.dead_letters) == 1)
    await trigger.stop()
    assert value(registry, "flowapp_trigger_redeliveries_total") == 2  # 3 deliveries
    assert value(registry, "flowapp_trigger_dead_letters_total") == 1
    assert value(registry, "flowapp_trigger_events_total") == 0


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.instant = now

    def now(self) -> datetime:
        return self.instant

    async def sleep(self, seconds: float) -> None:
        self.instant = datetime.fromtimestamp(self.instant.timestamp() + seconds, UTC)
        await asyncio.sleep(0.001)  # fake time, real turns of the loop


async def test_a_cron_fire_retried_then_given_up_counts_as_redelivered_then_dead() -> None:
    registry = CollectorRegistry()
    metrics = TriggerMetrics(registry)
    config = TriggerConfig(
        name="orders",
        kind="cron",
        source=CronConfig(schedule="* * * * *", every=None),
        max_redeliveries=1,
        backoff=Backoff(0.001),
    )
    trigger = CronTrigger(
        config,
        state=MemoryCronState(),
        clock=_Clock(datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC)),
        observer=metrics.observer("shop", "orders"),
    )

    async def refusing(event: dict[str, object]) -> None:
        raise RuntimeError("store down")

    await trigger.start(refusing)
    await eventually(lambda: (value(registry, "flowapp_trigger_dead_letters_total") or 0) >= 1)
    await trigger.stop()
    dead = value(registry, "flowapp_trigger_dead_letters_total") or 0
    redelivered = value(registry, "flowapp_trigger_redeliveries_total") or 0
    assert dead <= redelivered <= dead + 1  # each fire: tried again once, then given up


def test_lag_is_measured_from_the_event_time() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    assert event_lag({"time": "2026-01-01T00:00:00Z"}, at + 2.5) == 2.5
    assert event_lag({"time": "2026-01-01T00:00:00.500+00:00"}, at + 2.5) == 2.0
    assert event_lag({}, at) is None
    assert event_lag({"time": "yesterday"}, at) is None

    registry = CollectorRegistry()
    observer = TriggerMetrics(registry).observer("shop", "orders")
    observer.accepted(2.5)
    observer.accepted(None)  # counted, not measured
    assert value(registry, "flowapp_trigger_events_total") == 2
    assert value(registry, "flowapp_trigger_lag_seconds_count") == 1
    assert value(registry, "flowapp_trigger_lag_seconds_sum") == 2.5


def test_connected_is_read_from_the_statuses_at_each_scrape() -> None:
    registry = CollectorRegistry()
    statuses = {("shop", "orders"): TriggerStatus(TriggerState.READY)}
    TriggerMetrics(registry).watch(lambda: statuses)
    assert value(registry, "flowapp_trigger_connected") == 1
    statuses[("shop", "orders")] = TriggerStatus(TriggerState.CONNECTING, "refused")
    statuses[("shop", "nightly")] = TriggerStatus(TriggerState.READY)
    assert value(registry, "flowapp_trigger_connected") == 0
    assert value(registry, "flowapp_trigger_connected", trigger="nightly") == 1
