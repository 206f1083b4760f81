"""Alert decisions as pure functions: measurements in, a value, then a new state and
maybe a notification out. No I/O and no clock: ``now`` is passed in.

    Measurements --evaluate(rule)--> value --decide(rule, state, value, now)-->
        (AlertStateRecord, notification payload | None)

The rules:

- a rule *fires* when its value is strictly greater than its threshold (so a threshold
  of 0 on failed executions means "any failure") while it was not firing;
- it *resolves* when the value is back at or under the threshold while firing;
- between those two transitions nothing is sent, unless ``renotify_seconds`` is given:
  then a reminder (``status: firing`` again) goes out that often while it keeps firing.

``AlertStateRecord.since`` is the time of the rule's last transition: when it started
firing, or when it resolved. Every notification carries an ``id`` derived from the state
*before* the transition (rule id, status, previous ``since``), so deciding the same
transition twice (a round re-run after a crash between the enqueue and the state write)
yields the same ``id``, by which the receiver can drop the duplicate (it is also the
``X-Flowapp-Notification`` header).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from flowapp.store.platform import AlertRuleRecord, AlertStateRecord

FAILED_EXECUTIONS = "failed_executions"
FUNCTION_ERROR_RATE = "function_error_rate"
LATENCY_P95 = "latency_p95"

Payload = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Measurements:
    """What was measured for one rule over its window (only its kind's fields are set).

    ``failed_executions``: faulted executions created in the window; ``durations``:
    seconds from start to end of executions that ended in it; ``calls`` and ``errors``:
    calls of the function (or the app's functions) in it, and the non-2xx ones.
    """

    failed_executions: int = 0
    durations: Sequence[float] = ()
    calls: float = 0.0
    errors: float = 0.0


def evaluate(rule: AlertRuleRecord, measurements: Measurements) -> float:
    """The rule's value: a count, a share of calls (0..1) or seconds."""
    if rule.kind == FAILED_EXECUTIONS:
        return float(measurements.failed_executions)
    if rule.kind == LATENCY_P95:
        return percentile(measurements.durations, 0.95)
    if rule.kind == FUNCTION_ERROR_RATE:
        calls = measurements.calls
        return measurements.errors / calls if calls > 0 else 0.0
    raise ValueError(f"unknown alert kind {rule.kind!r}")


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest rank: the smallest value with at least ``fraction`` of them at or below
    it (a value that occurred, not an interpolation). 0.0 when there is none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def decide(
    rule: AlertRuleRecord,
    state: AlertStateRecord | None,
    value: float,
    now: float,
    *,
    renotify_seconds: float | None = None,
) -> tuple[AlertStateRecord, Payload | None]:
    """The rule's next state, and the notification to send, if any."""
    previous = state or AlertStateRecord(rule.id, firing=False)
    breached = value > rule.threshold
    if breached and not previous.firing:
        fired = AlertStateRecord(rule.id, True, since=now, last_value=value, last_notified_at=now)
        key = notification_key(rule.id, "firing", previous.since)
        return fired, payload(rule, "firing", value, since=now, at=now, key=key)
    if not breached and previous.firing:
        resolved = AlertStateRecord(
            rule.id, False, since=now, last_value=value, last_notified_at=now
        )
        key = notification_key(rule.id, "resolved", previous.since)
        return resolved, payload(rule, "resolved", value, since=previous.since, at=now, key=key)
    if breached and _reminder_due(previous, now, renotify_seconds):
        reminded = replace(previous, last_value=value, last_notified_at=now)
        key = notification_key(rule.id, "reminder", previous.last_notified_at)
        return reminded, payload(rule, "firing", value, since=previous.since, at=now, key=key)
    return replace(previous, last_value=value), None


def _reminder_due(state: AlertStateRecord, now: float, every: float | None) -> bool:
    last = state.last_notified_at if state.last_notified_at is not None else state.since
    return every is not None and last is not None and now - last >= every


def notification_key(rule_id: int, what: str, previous: float | None) -> str:
    """Stable across re-runs of one transition: it depends on the state before it."""
    millis = 0 if previous is None else round(previous * 1000)
    return f"{rule_id}-{what}-{millis}"


def payload(
    rule: AlertRuleRecord,
    status: str,
    value: float,
    *,
    since: float | None,
    at: float,
    key: str,
) -> Payload:
    """The JSON body POSTed to the rule's webhook (see docs/alerts.md)."""
    return {
        "id": key,
        "app": rule.app,
        "rule": {
            "id": rule.id,
            "name": rule.name,
            "kind": rule.kind,
            "threshold": rule.threshold,
            "window_seconds": rule.window_seconds,
            "function": rule.function,
        },
        "status": status,
        "value": value,
        "since": since,
        "at": at,
        "summary": summary(rule, status, value),
    }


def summary(rule: AlertRuleRecord, status: str, value: float) -> str:
    """One line for a chat message, e.g.
    ``[FIRING] shop/too-many-failures: 7 failed executions in the last 300s (threshold 5)``."""
    window = f"the last {rule.window_seconds:g}s"
    if rule.kind == FUNCTION_ERROR_RATE:
        target = f"function {rule.function}" if rule.function else "all functions"
        measured = f"{value:.1%} of calls to {target} failed in {window}"
        limit = f"{rule.threshold:.1%}"
    elif rule.kind == LATENCY_P95:
        measured = f"p95 execution latency {value:.3g}s over {window}"
        limit = f"{rule.threshold:g}s"
    else:
        measured = f"{value:g} failed executions in {window}"
        limit = f"{rule.threshold:g}"
    return f"[{status.upper()}] {rule.app}/{rule.name}: {measured} (threshold {limit})"
