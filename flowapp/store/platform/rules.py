"""Rules every platform store adapter applies the same way, written once.

Validation of what comes in (names, statuses, roles, traffic, alert rules), the small
decisions the port leaves open (revision ids, when a condition's transition time moves,
how much deploy log is kept, when a token's use is recorded) and how a notification
attempt is booked. The in-memory fake and the SQL adapter both call these before they
touch storage, so they refuse and decide alike; what needs stored data (does this
revision exist?) each adapter checks inside its own transaction.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from flowapp.store.platform.records import (
    AlertRuleSpec,
    AppObservation,
    AppRecord,
    Condition,
    ConditionRecord,
    DeliveryAttempt,
    DeployRecord,
    DeployStep,
    InvalidTraffic,
    InvalidValue,
    NotificationRecord,
    TrafficSplit,
)
from flowapp.store.rules import json_copy

# The same rule as flowapp.apps.names.DNS_LABEL, repeated so that the store does not
# load the apps package (and with it the DSL, events and triggers).
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
# Kubernetes' metav1.Condition: a type is a CamelCase word; a reason too (with _,:).
CONDITION_TYPE = re.compile(r"[A-Z][A-Za-z0-9]{0,315}")
CONDITION_REASON = re.compile(r"[A-Za-z]([A-Za-z0-9_,:]{0,1022}[A-Za-z0-9_])?")

REVISION_STATUSES = ("building", "ready", "failed")
RUN_KINDS = ("shell", "script", "container")
DEPLOY_STATUSES = ("running", "succeeded", "failed")
FINAL_DEPLOY_STATUSES = ("succeeded", "failed")
ROLES = ("viewer", "developer", "admin")
CONDITION_STATUSES = ("True", "False", "Unknown")
ALERT_KINDS = ("failed_executions", "function_error_rate", "latency_p95")

# A secret's name as ``use.secrets`` writes it (``apiKey``, ``my-oauth2-secret``); it is
# also a path segment of the API.
SECRET_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,127}")
MAX_SEALED_SECRET = 70_000  # bytes: a 64 KiB value, sealed

MAX_DEPLOY_LOG = 1_000_000  # characters; the tail is kept (the end says why it failed)
TOKEN_TOUCH_SECONDS = 60.0  # record a token's use at most this often (no write per call)


def check_label(value: str, what: str) -> str:
    if not isinstance(value, str) or not DNS_LABEL.fullmatch(value):
        raise InvalidValue(f"{what} {value!r} is not a DNS-1123 label")
    return value


def check_token_apps(apps: Sequence[str], role: str) -> tuple[str, ...]:
    """A token limited to some apps: their names, sorted. An admin manages tokens and
    every app, so its token cannot be limited."""
    names = tuple(sorted({check_label(app, "app name") for app in apps}))
    if names and role == "admin":
        raise InvalidValue("an admin token cannot be limited to apps: choose developer or viewer")
    return names


def new_app(name: str, namespace: str, resource: dict[str, Any], now: float) -> AppRecord:
    """The record ``create_app`` stores, its arguments checked and ``resource`` copied."""
    check_label(name, "app name")
    check_label(namespace, "namespace")
    check_object(resource, "resource")
    return AppRecord(name, namespace, json_copy(resource), created_at=now, updated_at=now)


def check_revision(digest: str, resource: dict[str, Any]) -> None:
    check_text(digest, "digest")
    check_object(resource, "resource")


def check_deploy_status(status: str | None) -> None:
    """None leaves a deploy's status as it is."""
    if status is not None:
        check_choice(status, DEPLOY_STATUSES, "deploy status")


def check_token(name: str, role: str, apps: Sequence[str]) -> tuple[str, ...]:
    """The arguments of ``create_token`` checked; returns the apps it is limited to."""
    check_text(name, "token name")
    check_choice(role, ROLES, "role")
    return check_token_apps(apps, role)


def check_secret_name(value: str) -> str:
    if not isinstance(value, str) or not SECRET_NAME.fullmatch(value):
        raise InvalidValue(
            f"secret name {value!r} is not valid: a letter or '_' first, then letters, "
            "digits, '_', '.' or '-', at most 128 characters"
        )
    return value


def check_sealed(key_id: str, sealed: bytes) -> None:
    check_text(key_id, "key id")
    if not isinstance(sealed, bytes) or not sealed:
        raise InvalidValue("a sealed secret is non-empty bytes")
    if len(sealed) > MAX_SEALED_SECRET:
        raise InvalidValue(f"a secret holds at most {MAX_SEALED_SECRET} bytes once sealed")


def check_choice(value: str, allowed: Sequence[str], what: str) -> str:
    if value not in allowed:
        raise InvalidValue(f"{what} {value!r} is not one of {', '.join(allowed)}")
    return value


def check_text(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(f"{what} must be a non-empty string")
    return value


def check_object(value: object, what: str) -> None:
    """Resources and payloads are JSON objects (whether they are JSON at all is found
    when they are copied or written: a ``StoreError``)."""
    if not isinstance(value, dict):
        raise InvalidValue(f"{what} must be a JSON object, not {type(value).__name__}")


def revision_id(app: str, number: int) -> str:
    return f"{app}-{number:05d}"


def check_traffic(splits: Iterable[tuple[str, int]]) -> list[TrafficSplit]:
    """Integers from 0 to 100 (0 keeps a revision addressable with no share) over
    distinct revisions, adding up to 100. Whether the revisions exist is the adapter's."""
    try:
        checked = [TrafficSplit(*split) for split in splits]
    except TypeError as exc:
        raise InvalidTraffic("each split is a (revision_id, percent) pair") from exc
    for split in checked:
        percent = split.percent
        if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
            raise InvalidTraffic(f"percent of {split.revision_id} must be an integer 0-100")
    if len({split.revision_id for split in checked}) != len(checked):
        raise InvalidTraffic("a revision appears twice in the traffic splits")
    total = sum(split.percent for split in checked)
    if total != 100:
        raise InvalidTraffic(f"traffic percents add up to {total}, not 100")
    return checked


def append_log(log: str, text: str) -> str:
    joined = log + text
    return joined[-MAX_DEPLOY_LOG:] if len(joined) > MAX_DEPLOY_LOG else joined


def deploy_ended_at(status: str, ended_at: float | None, now: float) -> float | None:
    """The first final status ends a deploy; going back to running reopens it."""
    if status not in FINAL_DEPLOY_STATUSES:
        return None
    return now if ended_at is None else ended_at


def updated_deploy(deploy: DeployRecord, step: DeployStep, *, now: float) -> DeployRecord:
    """The deploy after one ``update_deploy`` call (``None`` leaves a field as it is)."""
    status = deploy.status if step.status is None else step.status
    return replace(
        deploy,
        status=status,
        message=deploy.message if step.message is None else step.message,
        log=append_log(deploy.log, step.log),
        ended_at=deploy_ended_at(status, deploy.ended_at, now),
    )


def cut_short(why: str) -> DeployStep:
    """The step that fails a deploy its engine process left running."""
    return DeployStep(status="failed", message=why, log=why + "\n")


def interrupted(deploy: DeployRecord, owner: str) -> bool:
    """A deploy ``owner`` left running when it stopped (no owner: made before owners
    were kept, by whoever ran then)."""
    return deploy.status == "running" and deploy.owner in (owner, None)


def needs_touch(last_used_at: float | None, now: float) -> bool:
    return last_used_at is None or now - last_used_at >= TOKEN_TOUCH_SECONDS


def check_conditions(conditions: Sequence[Condition]) -> None:
    for condition in conditions:
        if not CONDITION_TYPE.fullmatch(condition.type):
            raise InvalidValue(f"condition type {condition.type!r} is not CamelCase")
        check_choice(condition.status, CONDITION_STATUSES, "condition status")
        if not CONDITION_REASON.fullmatch(condition.reason):
            raise InvalidValue(f"condition reason {condition.reason!r} is not CamelCase")
    if len({c.type for c in conditions}) != len(conditions):
        raise InvalidValue("a condition type appears twice")


def next_condition(
    app: str, previous: ConditionRecord | None, condition: Condition, now: float
) -> ConditionRecord:
    """Kubernetes semantics: the transition time moves only when the status changes."""
    same = previous is not None and previous.status == condition.status
    return ConditionRecord(
        app=app,
        type=condition.type,
        status=condition.status,
        reason=condition.reason,
        message=condition.message,
        last_transition_time=previous.last_transition_time if same and previous else now,
        observed_revision=condition.observed_revision,
    )


def check_observation(observation: AppObservation) -> None:
    check_object(observation.functions, "functions")
    check_object(observation.triggers, "triggers")


def check_alert_rule(rule: AlertRuleSpec) -> None:
    check_label(rule.app, "app name")
    check_text(rule.name, "alert rule name")
    check_choice(rule.kind, ALERT_KINDS, "alert kind")
    if not math.isfinite(rule.threshold) or rule.threshold < 0:
        raise InvalidValue(f"alert threshold {rule.threshold!r} must be a number >= 0")
    if not math.isfinite(rule.window_seconds) or rule.window_seconds <= 0:
        raise InvalidValue(f"alert window {rule.window_seconds!r} must be > 0 seconds")
    parts = urlsplit(rule.webhook_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidValue(f"webhook URL {rule.webhook_url!r} is not an http(s) URL")


def check_limit(limit: int | None) -> None:
    if limit is not None and limit < 0:
        raise InvalidValue(f"limit must be >= 0, not {limit}")


def marked(
    record: NotificationRecord, attempt: DeliveryAttempt, *, now: float
) -> NotificationRecord:
    """One more attempt booked. A notification already delivered stays as it was: a
    second deliverer (after a lease ran out) reporting late changes nothing."""
    if record.delivered_at is not None:
        return record
    attempts = record.attempts + 1
    if attempt.delivered:
        return replace(record, attempts=attempts, delivered_at=now, next_attempt_at=None)
    retry_at = attempt.next_attempt_at
    return replace(record, attempts=attempts, last_error=attempt.error, next_attempt_at=retry_at)


def check_run_kinds(kinds: Sequence[str]) -> tuple[str, ...]:
    """Kinds of ``run`` process, each once, in the order of ``RUN_KINDS``."""
    for kind in kinds:
        check_choice(kind, RUN_KINDS, "process kind")
    return tuple(kind for kind in RUN_KINDS if kind in kinds)
