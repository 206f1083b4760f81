"""The evaluator on the in-memory stores: state, the outbox, crashes between writes."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from flowapp.functions.metrics import FunctionMetrics
from flowapp.local.alerts import AlertEvaluator
from flowapp.store import MemoryStore, StoreUnavailable
from flowapp.store.platform import AlertStateRecord, MemoryPlatformStore, NotificationRecord

from .alert_factories import T0, execution, make_app, make_rule, save_workflow


class CrashingPlatform(MemoryPlatformStore):
    """Fails ``set_alert_state`` while ``broken``, as a crash after the enqueue would."""

    broken = False

    def set_alert_state(self, state: AlertStateRecord) -> None:
        if self.broken:
            raise StoreUnavailable("disk I/O error")
        super().set_alert_state(state)


@pytest.fixture
def store() -> MemoryStore:
    store = MemoryStore()
    save_workflow(store)
    return store


@pytest.fixture
def platform() -> CrashingPlatform:
    platform = CrashingPlatform()
    make_app(platform, "shop")
    return platform


def evaluator(store: Any, platform: Any, registry: Any = None, **options: Any) -> AlertEvaluator:
    return AlertEvaluator(store, platform, registry, interval=0.01, **options)


def outbox(platform: MemoryPlatformStore, now: float = T0 + 10_000) -> list[NotificationRecord]:
    return platform.due_notifications(now=now, limit=100)


def faults(store: MemoryStore, count: int, at: float) -> None:
    for n in range(count):
        execution(store, f"f-{at}-{n}", created_at=at, started_at=at, ended_at=at + 1)


def test_firing_then_resolving_queues_two_notifications(
    store: MemoryStore, platform: CrashingPlatform
) -> None:
    rule = make_rule(platform, threshold=2, window_seconds=60)
    faults(store, 3, at=T0)
    alerts = evaluator(store, platform)

    assert alerts.run_round(T0 + 5) == 1
    assert alerts.run_round(T0 + 10) == 0  # still firing: nothing more
    state = platform.get_alert_state(rule.id)
    assert state == AlertStateRecord(rule.id, True, T0 + 5, 3.0, T0 + 5)

    assert alerts.run_round(T0 + 61) == 1  # the faults left the window
    assert platform.get_alert_state(rule.id) == AlertStateRecord(
        rule.id, False, T0 + 61, 0.0, T0 + 61
    )
    statuses = [(n.payload["status"], n.payload["value"]) for n in outbox(platform)]
    assert statuses == [("firing", 3.0), ("resolved", 0.0)]


def test_a_failed_state_write_does_not_queue_the_notification_twice(
    store: MemoryStore, platform: CrashingPlatform
) -> None:
    rule = make_rule(platform, threshold=0)
    faults(store, 1, at=T0)
    alerts = evaluator(store, platform)

    platform.broken = True
    alerts.run_round(T0 + 1)  # queued, then the state write failed (logged)
    assert platform.get_alert_state(rule.id) is None
    platform.broken = False
    assert alerts.run_round(T0 + 2) == 0  # same transition, same id: not queued again

    assert len(outbox(platform)) == 1
    state = platform.get_alert_state(rule.id)
    assert state is not None and state.firing


def test_after_a_failed_state_write_the_resolution_still_follows(
    store: MemoryStore, platform: CrashingPlatform
) -> None:
    rule = make_rule(platform, threshold=0, window_seconds=60)
    faults(store, 1, at=T0)
    alerts = evaluator(store, platform)
    platform.broken = True
    alerts.run_round(T0 + 1)  # firing queued, state not written
    platform.broken = False

    assert alerts.run_round(T0 + 120) == 1  # the fault left the window: resolved

    assert [n.payload["status"] for n in outbox(platform)] == ["firing", "resolved"]
    state = platform.get_alert_state(rule.id)
    assert state is not None and not state.firing and state.since == T0 + 120


class FailingOutbox(CrashingPlatform):
    full = False

    def enqueue_notification(self, rule_id: int, payload: Any, *, now: float) -> Any:
        if self.full:
            raise StoreUnavailable("database is locked")
        return super().enqueue_notification(rule_id, payload, now=now)


def test_an_unwritten_state_survives_a_failed_round(store: MemoryStore) -> None:
    platform = FailingOutbox()
    make_app(platform, "shop")
    rule = make_rule(platform, threshold=0, window_seconds=60)
    faults(store, 1, at=T0)
    alerts = evaluator(store, platform)
    platform.broken = True
    alerts.run_round(T0 + 1)  # firing queued, state not written
    platform.full = True
    alerts.run_round(T0 + 120)  # resolved decided, not queued
    platform.broken = platform.full = False

    alerts.run_round(T0 + 125)  # decided again from the firing state kept in memory

    assert [n.payload["status"] for n in outbox(platform)] == ["firing", "resolved"]
    state = platform.get_alert_state(rule.id)
    assert state is not None and not state.firing


def test_after_a_crash_the_same_transition_has_the_same_id(
    store: MemoryStore, platform: CrashingPlatform
) -> None:
    """A new process re-decides the transition: the receiver can drop it by its id."""
    make_rule(platform, threshold=0)
    faults(store, 1, at=T0)
    platform.broken = True
    evaluator(store, platform).run_round(T0 + 1)
    platform.broken = False

    evaluator(store, platform).run_round(T0 + 2)  # "restarted"

    first, second = outbox(platform)
    assert first.payload["id"] == second.payload["id"]


def test_disabled_rules_are_not_evaluated(store: MemoryStore, platform: CrashingPlatform) -> None:
    rule = make_rule(platform, threshold=0)
    platform.set_alert_rule_enabled(rule.id, False)
    faults(store, 1, at=T0)

    assert evaluator(store, platform).run_round(T0 + 1) == 0
    assert platform.get_alert_state(rule.id) is None


def test_one_failing_rule_does_not_stop_the_others(
    store: MemoryStore, platform: CrashingPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = make_rule(platform, name="latency", kind="latency_p95", threshold=0)
    counted = make_rule(platform, threshold=0)
    faults(store, 1, at=T0)

    def fail(*args: Any, **kwargs: Any) -> list[float]:
        raise StoreUnavailable("database is locked")

    monkeypatch.setattr("flowapp.local.alerts.measure.execution_durations", fail)
    assert evaluator(store, platform).run_round(T0 + 1) == 1
    assert platform.get_alert_state(broken.id) is None
    assert platform.get_alert_state(counted.id) is not None


def test_latency_rule_fires_on_slow_executions(
    store: MemoryStore, platform: CrashingPlatform
) -> None:
    rule = make_rule(platform, name="slow", kind="latency_p95", threshold=2.0)
    for n in range(20):
        execution(store, f"e{n}", status="completed", started_at=T0, ended_at=T0 + 0.1 * n)
    alerts = evaluator(store, platform)
    assert alerts.run_round(T0 + 10) == 0  # p95 1.8 s

    execution(store, "x1", status="completed", started_at=T0, ended_at=T0 + 9)
    execution(store, "x2", status="completed", started_at=T0, ended_at=T0 + 9)
    assert alerts.run_round(T0 + 11) == 1
    state = platform.get_alert_state(rule.id)
    assert state is not None and state.last_value == 9.0


def test_error_rate_waits_for_two_samples_and_never_resolves_on_restart(
    store: MemoryStore, platform: CrashingPlatform
) -> None:
    metrics = FunctionMetrics(CollectorRegistry())
    rule = make_rule(
        platform, name="errors", kind="function_error_rate", function="charge", threshold=0.2
    )
    alerts = evaluator(store, platform, metrics.registry)
    assert alerts.run_round(T0) == 0  # the first sample
    for code in ["2xx", "5xx", "timeout"]:
        metrics.call_started("shop", "charge")
        metrics.call_finished("shop", "charge", code=code, seconds=0.1)

    assert alerts.run_round(T0 + 5) == 1
    [fired] = outbox(platform)
    assert fired.payload["value"] == pytest.approx(2 / 3)
    assert fired.payload["rule"]["function"] == "charge"

    restarted = evaluator(store, platform, metrics.registry)
    assert restarted.run_round(T0 + 10) == 0  # no rate yet: the state is left alone
    state = platform.get_alert_state(rule.id)
    assert state is not None and state.firing


async def test_evaluate_once_uses_the_clock(store: MemoryStore, platform: CrashingPlatform) -> None:
    rule = make_rule(platform, threshold=0)
    faults(store, 1, at=T0)
    alerts = evaluator(store, platform, clock=lambda: T0 + 30)

    assert await alerts.evaluate_once() == 1
    state = platform.get_alert_state(rule.id)
    assert state is not None and state.since == T0 + 30
