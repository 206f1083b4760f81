"""Alert rules, their state and the notification outbox of ``MemoryPlatformStore``.

A mixin over the store's ``MemoryTables`` (and its lock), kept apart only to keep each
module small; ``memory.py`` is the store. Claiming due notifications moves their next
attempt forward by the lease, exactly as the SQL adapter does.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, replace
from typing import Any

from flowapp.store.platform import rules
from flowapp.store.platform.memory_tables import MemoryTables, copy_notification
from flowapp.store.platform.records import (
    AlertRuleRecord,
    AlertRuleSpec,
    AlertStateRecord,
    AlreadyExists,
    DeliveryAttempt,
    NotFound,
    NotificationRecord,
)
from flowapp.store.rules import json_copy


class MemoryAlerts:
    _tables: MemoryTables
    _lock: threading.RLock

    def create_alert_rule(self, rule: AlertRuleSpec, *, now: float) -> AlertRuleRecord:
        rules.check_alert_rule(rule)
        with self._lock:
            self._tables.need_app(rule.app)
            taken = (r for r in self._tables.alert_rules.values() if r.app == rule.app)
            if any(r.name == rule.name for r in taken):
                raise AlreadyExists("alert rule", f"{rule.app}/{rule.name}")
            rule_id = next(self._tables.rule_ids)
            record = AlertRuleRecord(id=rule_id, created_at=now, **asdict(rule))
            self._tables.alert_rules[rule_id] = record
            return record

    def get_alert_rule(self, rule_id: int) -> AlertRuleRecord | None:
        with self._lock:
            return self._tables.alert_rules.get(rule_id)

    def list_alert_rules(self, app: str | None = None) -> list[AlertRuleRecord]:
        with self._lock:
            found = [r for r in self._tables.alert_rules.values() if app in (None, r.app)]
        return sorted(found, key=lambda rule: rule.id)

    def set_alert_rule_enabled(self, rule_id: int, enabled: bool) -> AlertRuleRecord:
        with self._lock:
            rule = replace(self._tables.need_rule(rule_id), enabled=enabled)
            self._tables.alert_rules[rule_id] = rule
            return rule

    def delete_alert_rule(self, rule_id: int) -> None:
        with self._lock:
            self._tables.need_rule(rule_id)
            self._tables.forget_rule(rule_id)

    def get_alert_state(self, rule_id: int) -> AlertStateRecord | None:
        with self._lock:
            return self._tables.alert_states.get(rule_id)

    def set_alert_state(self, state: AlertStateRecord) -> None:
        with self._lock:
            self._tables.need_rule(state.rule_id)
            self._tables.alert_states[state.rule_id] = state

    def enqueue_notification(
        self, rule_id: int, payload: dict[str, Any], *, now: float
    ) -> NotificationRecord:
        rules.check_object(payload, "payload")
        copied = json_copy(payload)
        with self._lock:
            self._tables.need_rule(rule_id)
            notification_id = next(self._tables.notification_ids)
            record = NotificationRecord(notification_id, rule_id, copied, now, next_attempt_at=now)
            self._tables.notifications[notification_id] = record
            return copy_notification(record)

    def due_notifications(
        self, *, now: float, limit: int, lease_seconds: float = 60.0
    ) -> list[NotificationRecord]:
        rules.check_limit(limit)
        with self._lock:
            due = [n for n in self._tables.notifications.values() if _due(n, now)]
            due.sort(key=lambda n: (n.next_attempt_at, n.id))
            claimed = [replace(n, next_attempt_at=now + lease_seconds) for n in due[:limit]]
            for notification in claimed:
                self._tables.notifications[notification.id] = notification
            return [copy_notification(notification) for notification in claimed]

    def mark_notification(
        self, notification_id: int, attempt: DeliveryAttempt, *, now: float
    ) -> NotificationRecord:
        with self._lock:
            notification = self._tables.notifications.get(notification_id)
            if notification is None:
                raise NotFound("notification", notification_id)
            notification = rules.marked(notification, attempt, now=now)
            self._tables.notifications[notification_id] = notification
            return copy_notification(notification)


def _due(notification: NotificationRecord, now: float) -> bool:
    return notification.next_attempt_at is not None and notification.next_attempt_at <= now
