"""``evaluate`` and ``decide``: values, firing, resolving and the notification payload."""

from __future__ import annotations

import pytest

from flowapp.local.alerts import Measurements, decide, evaluate, percentile
from flowapp.local.alerts.evaluation import notification_key, summary
from flowapp.store.platform import AlertStateRecord

from .alert_factories import T0, rule_record

RULE = rule_record(threshold=2.0)


def test_failed_executions_is_the_count() -> None:
    assert evaluate(RULE, Measurements(failed_executions=3)) == 3.0


def test_error_rate_is_the_share_of_failed_calls() -> None:
    rule = rule_record(kind="function_error_rate", function="charge", threshold=0.1)

    assert evaluate(rule, Measurements(calls=8, errors=2)) == 0.25
    assert evaluate(rule, Measurements(calls=0, errors=0)) == 0.0


def test_latency_is_the_nearest_rank_p95() -> None:
    rule = rule_record(kind="latency_p95", threshold=1.0)
    durations = [float(n) for n in range(1, 101)]  # 1 .. 100 s

    assert evaluate(rule, Measurements(durations=durations)) == 95.0
    assert evaluate(rule, Measurements(durations=[0.3])) == 0.3
    assert evaluate(rule, Measurements()) == 0.0


@pytest.mark.parametrize(
    ("values", "expected"),
    [([], 0.0), ([5.0], 5.0), ([3.0, 1.0, 2.0], 3.0), ([float(n) for n in range(20)], 18.0)],
)
def test_percentile(values: list[float], expected: float) -> None:
    assert percentile(values, 0.95) == expected


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown alert kind"):
        evaluate(rule_record(kind="cpu"), Measurements())


def test_a_value_over_the_threshold_fires() -> None:
    state, payload = decide(RULE, None, 3.0, T0)

    assert state == AlertStateRecord(RULE.id, True, since=T0, last_value=3.0, last_notified_at=T0)
    assert payload == {
        "id": f"{RULE.id}-firing-0",
        "app": "shop",
        "rule": {
            "id": RULE.id,
            "name": "too-many-failures",
            "kind": "failed_executions",
            "threshold": 2.0,
            "window_seconds": 60.0,
            "function": None,
        },
        "status": "firing",
        "value": 3.0,
        "since": T0,
        "at": T0,
        "summary": "[FIRING] shop/too-many-failures: 3 failed executions in the last 60s "
        "(threshold 2)",
    }


def test_the_threshold_itself_does_not_fire() -> None:
    state, payload = decide(RULE, None, 2.0, T0)

    assert payload is None
    assert state == AlertStateRecord(RULE.id, False, last_value=2.0)


def test_staying_over_the_threshold_sends_nothing_more() -> None:
    firing, _ = decide(RULE, None, 3.0, T0)

    state, payload = decide(RULE, firing, 9.0, T0 + 3600)

    assert payload is None
    assert state == AlertStateRecord(RULE.id, True, since=T0, last_value=9.0, last_notified_at=T0)


def test_back_at_the_threshold_resolves() -> None:
    firing, _ = decide(RULE, None, 3.0, T0)

    state, payload = decide(RULE, firing, 2.0, T0 + 90)

    assert state == AlertStateRecord(
        RULE.id, False, since=T0 + 90, last_value=2.0, last_notified_at=T0 + 90
    )
    assert payload is not None
    assert (payload["status"], payload["since"], payload["at"], payload["value"]) == (
        "resolved",
        T0,  # since: when the episode began
        T0 + 90,
        2.0,
    )
    assert payload["summary"].startswith("[RESOLVED] shop/too-many-failures: 2 failed")
    assert payload["id"] == notification_key(RULE.id, "resolved", T0)


def test_staying_resolved_sends_nothing() -> None:
    firing, _ = decide(RULE, None, 3.0, T0)
    resolved, _ = decide(RULE, firing, 0.0, T0 + 90)

    state, payload = decide(RULE, resolved, 1.0, T0 + 95)

    assert payload is None and state.firing is False and state.since == T0 + 90


def test_firing_again_is_a_new_notification_with_a_new_id() -> None:
    first, first_payload = decide(RULE, None, 3.0, T0)
    resolved, _ = decide(RULE, first, 0.0, T0 + 90)

    state, payload = decide(RULE, resolved, 5.0, T0 + 200)

    assert state.firing and state.since == T0 + 200
    assert payload is not None and first_payload is not None
    assert payload["status"] == "firing" and payload["id"] != first_payload["id"]


def test_deciding_the_same_transition_again_gives_the_same_id() -> None:
    """A round re-run after a crash (the state was not written) repeats the id."""
    resolved = AlertStateRecord(RULE.id, False, since=T0 + 90, last_value=0.0)

    _, once = decide(RULE, resolved, 5.0, T0 + 200)
    _, again = decide(RULE, resolved, 6.0, T0 + 205)

    assert once is not None and again is not None and once["id"] == again["id"]


def test_a_reminder_goes_out_while_firing_when_asked() -> None:
    firing, _ = decide(RULE, None, 3.0, T0, renotify_seconds=600)

    quiet, nothing = decide(RULE, firing, 3.0, T0 + 599, renotify_seconds=600)
    reminded, reminder = decide(RULE, quiet, 4.0, T0 + 600, renotify_seconds=600)

    assert nothing is None
    assert reminder is not None
    assert (reminder["status"], reminder["since"], reminder["at"]) == ("firing", T0, T0 + 600)
    assert reminded.last_notified_at == T0 + 600 and reminded.since == T0
    _, next_reminder = decide(RULE, reminded, 4.0, T0 + 1200, renotify_seconds=600)
    assert next_reminder is not None and next_reminder["id"] != reminder["id"]


@pytest.mark.parametrize(
    ("changes", "value", "expected"),
    [
        (
            {"kind": "function_error_rate", "function": "charge", "threshold": 0.05},
            0.125,
            "[FIRING] shop/too-many-failures: 12.5% of calls to function charge failed "
            "in the last 60s (threshold 5.0%)",
        ),
        (
            {"kind": "function_error_rate", "threshold": 0.05},
            0.5,
            "[FIRING] shop/too-many-failures: 50.0% of calls to all functions failed "
            "in the last 60s (threshold 5.0%)",
        ),
        (
            {"kind": "latency_p95", "threshold": 1.5},
            2.25,
            "[FIRING] shop/too-many-failures: p95 execution latency 2.25s over the last 60s "
            "(threshold 1.5s)",
        ),
    ],
)
def test_summaries(changes: dict[str, object], value: float, expected: str) -> None:
    assert summary(rule_record(**changes), "firing", value) == expected
