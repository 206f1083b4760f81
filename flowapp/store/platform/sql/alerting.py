"""Alert rules, states and notifications of ``SqlPlatformStore`` (the SQL is in
``alerts.py``); a part of the store class kept apart only to keep modules small."""

from __future__ import annotations

from typing import Any

from flowapp.store.platform import rules
from flowapp.store.platform.records import (
    AlertRuleRecord,
    AlertRuleSpec,
    AlertStateRecord,
    DeliveryAttempt,
    NotificationRecord,
)
from flowapp.store.platform.sql import alerts
from flowapp.store.rules import json_copy
from flowapp.store.sql.base import SqlBase
from flowapp.store.sql.errors import translated


class SqlAlerts(SqlBase):
    @translated
    def create_alert_rule(self, rule: AlertRuleSpec, *, now: float) -> AlertRuleRecord:
        rules.check_alert_rule(rule)
        with self._write() as conn:
            return alerts.create_rule(conn, rule, now=now)

    @translated
    def get_alert_rule(self, rule_id: int) -> AlertRuleRecord | None:
        with self._read() as conn:
            return alerts.get_rule(conn, rule_id)

    @translated
    def list_alert_rules(self, app: str | None = None) -> list[AlertRuleRecord]:
        with self._read() as conn:
            return alerts.list_rules(conn, app)

    @translated
    def set_alert_rule_enabled(self, rule_id: int, enabled: bool) -> AlertRuleRecord:
        with self._write() as conn:
            return alerts.set_rule_enabled(conn, rule_id, enabled)

    @translated
    def delete_alert_rule(self, rule_id: int) -> None:
        with self._write() as conn:
            alerts.delete_rule(conn, rule_id)

    @translated
    def get_alert_state(self, rule_id: int) -> AlertStateRecord | None:
        with self._read() as conn:
            return alerts.get_state(conn, rule_id)

    @translated
    def set_alert_state(self, state: AlertStateRecord) -> None:
        with self._write() as conn:
            alerts.set_state(conn, state)

    @translated
    def enqueue_notification(
        self, rule_id: int, payload: dict[str, Any], *, now: float
    ) -> NotificationRecord:
        rules.check_object(payload, "payload")
        with self._write() as conn:
            return alerts.enqueue(conn, rule_id, json_copy(payload), now=now)

    @translated
    def due_notifications(
        self, *, now: float, limit: int, lease_seconds: float = 60.0
    ) -> list[NotificationRecord]:
        rules.check_limit(limit)
        with self._write() as conn:
            return alerts.claim_due(conn, now=now, limit=limit, lease_seconds=lease_seconds)

    @translated
    def mark_notification(
        self, notification_id: int, attempt: DeliveryAttempt, *, now: float
    ) -> NotificationRecord:
        with self._write() as conn:
            return alerts.mark(conn, notification_id, attempt, now=now)
