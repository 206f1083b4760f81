"""Alert rules, their state and the notification outbox, on every adapter."""

from __future__ import annotations

import math

import pytest

from flowapp.store import StoreError
from flowapp.store.platform import (
    AlertRuleRecord,
    AlertStateRecord,
    AlreadyExists,
    InvalidValue,
    NotFound,
    PlatformStore,
)
from flowapp.store.platform.records import DeliveryAttempt

from .platform_factories import (
    T0,
    make_app,
    platform_store_fixture,  # noqa: F401 (the fixture)
    rule_spec,
)


@pytest.fixture
def rule(platform_store: PlatformStore) -> AlertRuleRecord:
    make_app(platform_store, "shop")
    return platform_store.create_alert_rule(rule_spec("shop"), now=T0)


def test_a_rule_is_created_read_and_listed(
    platform_store: PlatformStore, rule: AlertRuleRecord
) -> None:
    assert (rule.app, rule.name, rule.kind, rule.created_at) == (
        "shop",
        "too-many-failures",
        "failed_executions",
        T0,
    )
    assert (rule.threshold, rule.window_seconds, rule.function, rule.enabled) == (
        5.0,
        300.0,
        None,
        True,
    )
    make_app(platform_store, "billing")
    spec = rule_spec("billing", kind="latency_p95", function="charge", threshold=0.25)
    other = platform_store.create_alert_rule(spec, now=T0 + 1)
    assert other.id > rule.id and other.function == "charge"
    assert platform_store.get_alert_rule(rule.id) == rule
    assert platform_store.list_alert_rules() == [rule, other]
    assert platform_store.list_alert_rules("billing") == [other]
    assert platform_store.get_alert_rule(other.id + 100) is None


def test_a_rule_name_is_unique_per_app(
    platform_store: PlatformStore, rule: AlertRuleRecord
) -> None:
    with pytest.raises(AlreadyExists):
        platform_store.create_alert_rule(rule_spec("shop"), now=T0)
    with pytest.raises(NotFound):
        platform_store.create_alert_rule(rule_spec("nope"), now=T0)


@pytest.mark.parametrize(
    "changes",
    [
        {"kind": "cpu"},
        {"threshold": -1.0},
        {"threshold": math.nan},
        {"window_seconds": 0.0},
        {"webhook_url": "ftp://example.com/x"},
        {"webhook_url": "https://"},
        {"name": ""},
    ],
)
def test_rules_are_checked(platform_store: PlatformStore, changes: dict[str, object]) -> None:
    make_app(platform_store, "shop")
    with pytest.raises(InvalidValue):
        platform_store.create_alert_rule(rule_spec("shop", **changes), now=T0)
    assert platform_store.list_alert_rules() == []


def test_a_rule_is_disabled_and_enabled(
    platform_store: PlatformStore, rule: AlertRuleRecord
) -> None:
    assert platform_store.set_alert_rule_enabled(rule.id, False).enabled is False
    assert platform_store.get_alert_rule(rule.id).enabled is False  # type: ignore[union-attr]
    assert platform_store.set_alert_rule_enabled(rule.id, True) == rule
    with pytest.raises(NotFound):
        platform_store.set_alert_rule_enabled(rule.id + 100, True)


def test_the_alert_state_is_upserted(platform_store: PlatformStore, rule: AlertRuleRecord) -> None:
    assert platform_store.get_alert_state(rule.id) is None
    firing = AlertStateRecord(rule.id, firing=True, since=T0, last_value=7.0, last_notified_at=T0)
    platform_store.set_alert_state(firing)
    assert platform_store.get_alert_state(rule.id) == firing
    resolved = AlertStateRecord(rule.id, firing=False, last_value=0.0)
    platform_store.set_alert_state(resolved)
    assert platform_store.get_alert_state(rule.id) == resolved
    with pytest.raises(NotFound):
        platform_store.set_alert_state(AlertStateRecord(rule.id + 100, firing=True))


def test_deleting_a_rule_drops_its_state_and_notifications(
    platform_store: PlatformStore, rule: AlertRuleRecord
) -> None:
    platform_store.set_alert_state(AlertStateRecord(rule.id, firing=True, since=T0))
    platform_store.enqueue_notification(rule.id, {"firing": True}, now=T0)
    platform_store.delete_alert_rule(rule.id)
    assert platform_store.get_alert_rule(rule.id) is None
    assert platform_store.get_alert_state(rule.id) is None
    assert platform_store.due_notifications(now=T0 + 1, limit=10) == []
    with pytest.raises(NotFound):
        platform_store.delete_alert_rule(rule.id)


def test_a_notification_is_due_at_once_and_claimed_for_a_lease(
    platform_store: PlatformStore, rule: AlertRuleRecord
) -> None:
    queued = platform_store.enqueue_notification(rule.id, {"value": 7}, now=T0)
    assert (queued.attempts, queued.next_attempt_at, queued.delivered_at) == (0, T0, None)
    assert platform_store.due_notifications(now=T0 - 1, limit=10) == []
    (claimed,) = platform_store.due_notifications(now=T0, limit=10, lease_seconds=30)
    assert claimed.id == queued.id and claimed.payload == {"value": 7}
    assert claimed.next_attempt_at == T0 + 30
    assert platform_store.due_notifications(now=T0 + 29, limit=10) == []  # claimed
    # The deliverer died: once the lease runs out, it is due again.
    assert [n.id for n in platform_store.due_notifications(now=T0 + 30, limit=10)] == [queued.id]


def test_failed_attempts_are_retried_then_given_up(
    platform_store: PlatformStore, rule: AlertRuleRecord
) -> None:
    queued = platform_store.enqueue_notification(rule.id, {}, now=T0)
    platform_store.due_notifications(now=T0, limit=1)
    failed = platform_store.mark_notification(
        queued.id, DeliveryAttempt(False, "HTTP 503", next_attempt_at=T0 + 60), now=T0 + 1
    )
    assert (failed.attempts, failed.last_error, failed.next_attempt_at) == (1, "HTTP 503", T0 + 60)
    assert platform_store.due_notifications(now=T0 + 59, limit=1) == []
    assert len(platform_store.due_notifications(now=T0 + 60, limit=1)) == 1
    given_up = platform_store.mark_notification(
        queued.id, DeliveryAttempt(False, "HTTP 410"), now=T0 + 61
    )
    assert (given_up.attempts, given_up.next_attempt_at, given_up.delivered_at) == (2, None, None)
    assert platform_store.due_notifications(now=T0 + 10_000, limit=1) == []


def test_a_delivered_notification_is_done(
    platform_store: PlatformStore, rule: AlertRuleRecord
) -> None:
    queued = platform_store.enqueue_notification(rule.id, {}, now=T0)
    platform_store.mark_notification(
        queued.id, DeliveryAttempt(False, "timeout", next_attempt_at=T0 + 5), now=T0
    )
    done = platform_store.mark_notification(queued.id, DeliveryAttempt(True), now=T0 + 5)
    assert (done.attempts, done.delivered_at, done.next_attempt_at) == (2, T0 + 5, None)
    assert done.last_error == "timeout"  # the last failure stays readable
    late = platform_store.mark_notification(queued.id, DeliveryAttempt(False, "x"), now=T0 + 9)
    assert late == done  # a late report from a second deliverer changes nothing
    assert platform_store.due_notifications(now=T0 + 10_000, limit=1) == []
    with pytest.raises(NotFound):
        platform_store.mark_notification(queued.id + 100, DeliveryAttempt(True), now=T0)


def test_due_notifications_come_oldest_due_first_up_to_the_limit(
    platform_store: PlatformStore, rule: AlertRuleRecord
) -> None:
    ids = [platform_store.enqueue_notification(rule.id, {"n": n}, now=T0).id for n in range(4)]
    platform_store.mark_notification(ids[0], DeliveryAttempt(False, next_attempt_at=T0 + 2), now=T0)
    first = platform_store.due_notifications(now=T0 + 5, limit=2)
    assert [n.id for n in first] == ids[1:3]
    rest = platform_store.due_notifications(now=T0 + 5, limit=10)
    assert [n.id for n in rest] == [ids[3], ids[0]]


def test_notification_errors(platform_store: PlatformStore, rule: AlertRuleRecord) -> None:
    with pytest.raises(NotFound):
        platform_store.enqueue_notification(rule.id + 100, {}, now=T0)
    with pytest.raises(StoreError):
        platform_store.enqueue_notification(rule.id, {"when": object()}, now=T0)
    with pytest.raises(InvalidValue):
        platform_store.enqueue_notification(rule.id, [], now=T0)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        platform_store.due_notifications(now=T0, limit=-1)
