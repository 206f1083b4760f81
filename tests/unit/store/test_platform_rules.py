"""The pure rules of the platform store: validation, decisions, tokens."""

from __future__ import annotations

import hashlib
import math

import pytest

from flowapp.store.platform import (
    AlertRuleSpec,
    Condition,
    ConditionRecord,
    InvalidTraffic,
    InvalidValue,
    NotificationRecord,
    TokenRecord,
    TrafficSplit,
    rules,
    tokens,
)
from flowapp.store.platform.records import DeliveryAttempt
from flowapp.store.port import StoreError


@pytest.mark.parametrize("name", ["a", "shop", "my-shop-2", "0", "a" * 63])
def test_dns_labels_are_accepted(name: str) -> None:
    assert rules.check_label(name, "app name") == name


@pytest.mark.parametrize("name", ["", "A", "-a", "a-", "a.b", "a_b", "a" * 64, "é"])
def test_other_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidValue, match="DNS-1123"):
        rules.check_label(name, "app name")


def test_errors_are_store_errors_and_value_errors() -> None:
    assert issubclass(InvalidTraffic, InvalidValue)
    assert issubclass(InvalidValue, StoreError) and issubclass(InvalidValue, ValueError)


def test_revision_ids_are_zero_padded() -> None:
    assert rules.revision_id("shop", 7) == "shop-00007"
    assert rules.revision_id("shop", 123456) == "shop-123456"


def test_traffic_becomes_splits() -> None:
    assert rules.check_traffic([("a", 100)]) == [TrafficSplit("a", 100)]
    assert rules.check_traffic([("a", 0), ("b", 100)])[1].percent == 100
    with pytest.raises(InvalidTraffic, match="add up to 99"):
        rules.check_traffic([("a", 99)])
    with pytest.raises(InvalidTraffic, match="pair"):
        rules.check_traffic([("a",)])  # type: ignore[list-item]


def test_a_condition_keeps_its_transition_time_while_its_status_holds() -> None:
    before = ConditionRecord("shop", "Ready", "True", "Ok", "", 10.0)
    same = rules.next_condition("shop", before, Condition("Ready", "True", "Still", "m"), 20.0)
    assert (same.last_transition_time, same.reason, same.message) == (10.0, "Still", "m")
    changed = rules.next_condition("shop", before, Condition("Ready", "False", "Down"), 30.0)
    assert changed.last_transition_time == 30.0
    assert (
        rules.next_condition("shop", None, Condition("Ready", "True"), 40.0).last_transition_time
        == 40.0
    )


@pytest.mark.parametrize("reason", ["Ok", "FunctionsNotReady", "a_b", "Error:Timeout", "X1"])
def test_kubernetes_reasons_are_accepted(reason: str) -> None:
    rules.check_conditions([Condition("Ready", "True", reason)])


def test_a_deploy_ends_once() -> None:
    assert rules.deploy_ended_at("running", None, 5.0) is None
    assert rules.deploy_ended_at("failed", None, 5.0) == 5.0
    assert rules.deploy_ended_at("succeeded", 5.0, 9.0) == 5.0


def test_the_deploy_log_keeps_its_tail(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rules, "MAX_DEPLOY_LOG", 4)
    assert rules.append_log("ab", "c") == "abc"
    assert rules.append_log("abc", "def") == "cdef"


def test_a_token_use_is_recorded_once_a_minute() -> None:
    assert rules.needs_touch(None, 0.0)
    assert not rules.needs_touch(100.0, 100.0 + rules.TOKEN_TOUCH_SECONDS - 0.001)
    assert rules.needs_touch(100.0, 100.0 + rules.TOKEN_TOUCH_SECONDS)


def test_notification_attempts_are_booked() -> None:
    queued = NotificationRecord(1, 2, {}, 0.0, next_attempt_at=0.0)
    failed = rules.marked(queued, DeliveryAttempt(False, "503", 9.0), now=1.0)
    assert (failed.attempts, failed.last_error, failed.next_attempt_at) == (1, "503", 9.0)
    done = rules.marked(failed, DeliveryAttempt(True), now=9.0)
    assert (done.attempts, done.delivered_at, done.next_attempt_at) == (2, 9.0, None)
    assert rules.marked(done, DeliveryAttempt(False, "x", 11.0), now=10.0) == done


def test_alert_rules_are_checked() -> None:
    spec = AlertRuleSpec("shop", "slow", "latency_p95", 0.5, 60.0, "http://hooks/x")
    rules.check_alert_rule(spec)
    with pytest.raises(InvalidValue):
        rules.check_alert_rule(
            AlertRuleSpec("shop", "slow", "latency_p95", math.inf, 60, "http://h")
        )


def test_tokens_are_random_recognisable_and_hashed() -> None:
    first, second = tokens.new_token(), tokens.new_token()
    assert first != second and tokens.well_formed(first) and len(first) == 46
    assert first.startswith(tokens.TOKEN_PREFIX) and tokens.display_prefix(first) == first[:8]
    assert tokens.hash_token(first) == hashlib.sha256(first.encode()).hexdigest()


def test_find_match_compares_every_candidate() -> None:
    plaintext = tokens.new_token()

    def token(token_id: int, secret: str) -> TokenRecord:
        return TokenRecord(token_id, "t", "admin", secret[:8], tokens.hash_token(secret), 0.0)

    right, wrong = token(1, plaintext), token(2, tokens.new_token())
    assert tokens.find_match([wrong, right], plaintext) == right
    assert tokens.find_match([wrong], plaintext) is None
    assert tokens.find_match([], plaintext) is None
