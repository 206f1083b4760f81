"""The dicts behind ``MemoryPlatformStore``, and the lookups its methods share.

Records are frozen and stored as they were made; their JSON fields (resources,
payloads) are copied on the way in by the store and on the way out by the ``copy_*``
helpers. Callers hold ``lock`` around every access.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field, replace

from flowapp.store.platform.records import (
    AlertRuleRecord,
    AlertStateRecord,
    AppObservation,
    AppRecord,
    ConditionRecord,
    DeployRecord,
    NotFound,
    NotificationRecord,
    RevisionRecord,
    SecretRecord,
    TokenRecord,
    TrafficSplit,
)
from flowapp.store.rules import json_copy


def _ids() -> itertools.count[int]:
    return itertools.count(1)


@dataclass(slots=True)
class MemoryTables:
    lock: threading.RLock = field(default_factory=threading.RLock)
    apps: dict[str, AppRecord] = field(default_factory=dict)
    revisions: dict[str, RevisionRecord] = field(default_factory=dict)  # by revision id
    traffic: dict[str, list[TrafficSplit]] = field(default_factory=dict)
    deploys: dict[int, DeployRecord] = field(default_factory=dict)
    tokens: dict[int, TokenRecord] = field(default_factory=dict)
    conditions: dict[str, dict[str, ConditionRecord]] = field(default_factory=dict)
    observations: dict[str, AppObservation] = field(default_factory=dict)
    alert_rules: dict[int, AlertRuleRecord] = field(default_factory=dict)
    alert_states: dict[int, AlertStateRecord] = field(default_factory=dict)
    notifications: dict[int, NotificationRecord] = field(default_factory=dict)
    secrets: dict[tuple[str, str], SecretRecord] = field(default_factory=dict)  # (app, name)
    # Ids only grow and are never reused, like the SQL adapter's autoincrement keys.
    deploy_ids: itertools.count[int] = field(default_factory=_ids)
    token_ids: itertools.count[int] = field(default_factory=_ids)
    rule_ids: itertools.count[int] = field(default_factory=_ids)
    notification_ids: itertools.count[int] = field(default_factory=_ids)

    def need_app(self, name: str) -> AppRecord:
        app = self.apps.get(name)
        if app is None:
            raise NotFound("app", name)
        return app

    def latest_revision(self, app: str) -> RevisionRecord | None:
        own = [revision for revision in self.revisions.values() if revision.app == app]
        return max(own, key=lambda revision: revision.number, default=None)

    def need_rule(self, rule_id: int) -> AlertRuleRecord:
        rule = self.alert_rules.get(rule_id)
        if rule is None:
            raise NotFound("alert rule", rule_id)
        return rule

    def forget_app(self, app: str) -> None:
        """Everything of a deleted app, its secrets included (foreign keys cascade so
        on SQL)."""
        self.apps.pop(app, None)
        for revision in [r for r in self.revisions.values() if r.app == app]:
            del self.revisions[revision.id]
        for deploy in [d for d in self.deploys.values() if d.app == app]:
            del self.deploys[deploy.id]
        self.traffic.pop(app, None)
        for key in [key for key in self.secrets if key[0] == app]:
            del self.secrets[key]
        self.conditions.pop(app, None)
        self.observations.pop(app, None)
        for rule in [rule for rule in self.alert_rules.values() if rule.app == app]:
            self.forget_rule(rule.id)

    def forget_rule(self, rule_id: int) -> None:
        self.alert_rules.pop(rule_id, None)
        self.alert_states.pop(rule_id, None)
        for notification in list(self.notifications.values()):
            if notification.rule_id == rule_id:
                del self.notifications[notification.id]


def copy_app(app: AppRecord) -> AppRecord:
    return replace(app, resource=json_copy(app.resource))


def copy_revision(revision: RevisionRecord) -> RevisionRecord:
    return replace(revision, resource=json_copy(revision.resource))


def copy_notification(notification: NotificationRecord) -> NotificationRecord:
    return replace(notification, payload=json_copy(notification.payload))
