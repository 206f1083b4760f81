"""Alert rules, their state and the notification outbox on SQL.

Notifications are an outbox: the evaluator enqueues them in its own transaction, and a
deliverer claims the due ones (``claim_due``) by moving their next attempt forward by
a lease. On PostgreSQL the pick is ``FOR UPDATE SKIP LOCKED``, so deliverers in several
server replicas never claim the same row; SQLite's single writer gives the same. A
deliverer that dies mid-delivery leaves its claims to come due again when the lease
runs out; a notification is thus delivered at least once.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from flowapp.store.platform import rules
from flowapp.store.platform.records import (
    AlertRuleRecord,
    AlertRuleSpec,
    AlertStateRecord,
    AlreadyExists,
    DeliveryAttempt,
    NotFound,
    NotificationRecord,
)
from flowapp.store.platform.sql.common import as_row, need_app, need_rule, upsert
from flowapp.store.platform.sql.tables import alert_notifications, alert_rules, alert_states

n = alert_notifications.c


def create_rule(conn: Connection, rule: AlertRuleSpec, *, now: float) -> AlertRuleRecord:
    need_app(conn, rule.app, lock=True)  # queues creators of one app's rules
    taken = sa.select(alert_rules.c.id).where(
        alert_rules.c.app == rule.app, alert_rules.c.name == rule.name
    )
    if conn.scalar(taken) is not None:
        raise AlreadyExists("alert rule", f"{rule.app}/{rule.name}")
    row = {**as_row(rule), "created_at": now}
    inserted = conn.execute(sa.insert(alert_rules).values(row).returning(alert_rules.c.id))
    return AlertRuleRecord(id=int(inserted.scalar_one()), **row)


def get_rule(conn: Connection, rule_id: int) -> AlertRuleRecord | None:
    row = conn.execute(sa.select(alert_rules).where(alert_rules.c.id == rule_id)).first()
    return None if row is None else AlertRuleRecord(**row._mapping)


def list_rules(conn: Connection, app: str | None) -> list[AlertRuleRecord]:
    query = sa.select(alert_rules).order_by(alert_rules.c.id)
    if app is not None:
        query = query.where(alert_rules.c.app == app)
    return [AlertRuleRecord(**row._mapping) for row in conn.execute(query)]


def set_rule_enabled(conn: Connection, rule_id: int, enabled: bool) -> AlertRuleRecord:
    rule = replace(need_rule(conn, rule_id), enabled=enabled)
    conn.execute(sa.update(alert_rules).where(alert_rules.c.id == rule_id).values(enabled=enabled))
    return rule


def delete_rule(conn: Connection, rule_id: int) -> None:
    """Foreign keys cascade to the rule's state and notifications."""
    need_rule(conn, rule_id)
    conn.execute(sa.delete(alert_rules).where(alert_rules.c.id == rule_id))


def get_state(conn: Connection, rule_id: int) -> AlertStateRecord | None:
    row = conn.execute(sa.select(alert_states).where(alert_states.c.rule_id == rule_id)).first()
    return None if row is None else AlertStateRecord(**row._mapping)


def set_state(conn: Connection, state: AlertStateRecord) -> None:
    need_rule(conn, state.rule_id)
    upsert(conn, alert_states, as_row(state), keys=("rule_id",))


def enqueue(
    conn: Connection, rule_id: int, payload: dict[str, Any], *, now: float
) -> NotificationRecord:
    need_rule(conn, rule_id)
    row: dict[str, Any] = {"rule_id": rule_id, "payload": payload, "created_at": now}
    row |= {"attempts": 0, "next_attempt_at": now, "last_error": ""}
    inserted = conn.execute(sa.insert(alert_notifications).values(row).returning(n.id))
    return NotificationRecord(id=int(inserted.scalar_one()), **row)


def claim_due(
    conn: Connection, *, now: float, limit: int, lease_seconds: float
) -> list[NotificationRecord]:
    pick = (
        sa.select(n.id)
        .where(n.next_attempt_at <= now)
        .order_by(n.next_attempt_at, n.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(conn.scalars(pick))
    if not ids:
        return []
    claim = (
        sa.update(alert_notifications)
        .where(n.id.in_(ids))
        .values(next_attempt_at=now + lease_seconds)
        .returning(*alert_notifications.c)
    )
    claimed = {row.id: NotificationRecord(**row._mapping) for row in conn.execute(claim)}
    return [claimed[notification_id] for notification_id in ids]


def mark(
    conn: Connection, notification_id: int, attempt: DeliveryAttempt, *, now: float
) -> NotificationRecord:
    query = sa.select(alert_notifications).where(n.id == notification_id).with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise NotFound("notification", notification_id)
    before = NotificationRecord(**row._mapping)
    after = rules.marked(before, attempt, now=now)
    if after != before:
        statement = sa.update(alert_notifications).where(n.id == notification_id)
        conn.execute(statement.values(as_row(after)))
    return after
