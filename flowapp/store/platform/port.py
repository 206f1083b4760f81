"""The platform store port: what the API server and the syncer keep besides executions.

The execution store (``flowapp.store``) holds what the runtime writes; this port holds
what people and controllers write: apps and their revisions, deploys and traffic,
API tokens, apps' secrets (sealed by the caller), the conditions and observations the
syncer reports, alert rules with their state and the outbox of alert notifications.
Data flows in from three writers:

- the API server: apps, revisions, deploys, traffic, tokens, secrets, alert rules;
- the syncer: conditions and observations of each app where it runs;
- the alert evaluator: alert states and notifications, which a deliverer drains.

Each consumer depends on the part it uses: ``AppStore`` (apps and their rollouts:
revisions, traffic, deploys), ``TokenStore``, ``SecretStore``, ``StatusStore`` (the
syncer's conditions and observations) and ``AlertStore`` (rules, their state,
notifications). ``PlatformStore`` is all of them, with the schema's life cycle; every
adapter implements the whole of it.

Same shape as the execution store: one interface, three adapters (``memory.py``,
``sql/`` on SQLite and PostgreSQL) that share their rules (``rules.py``, ``tokens.py``)
and one body of tests. Methods are synchronous; the caller passes ``now`` in, so the
store never reads the clock. Records and errors are in ``records.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from flowapp.store.platform.records import (
    AlertRuleRecord,
    AlertRuleSpec,
    AlertStateRecord,
    AppObservation,
    AppRecord,
    Condition,
    ConditionRecord,
    DeliveryAttempt,
    DeployRecord,
    DeployStep,
    NotificationRecord,
    RevisionRecord,
    SecretRecord,
    TokenRecord,
    TrafficSplit,
)


class AppStore(Protocol):
    """Apps and their rollouts: revisions, traffic splits, deploys, run policy."""

    # --- apps ---------------------------------------------------------------------
    def create_app(
        self, name: str, *, namespace: str, resource: dict[str, Any], now: float
    ) -> AppRecord:
        """Raises ``AppExists`` when an app has the name."""

    def get_app(self, name: str) -> AppRecord | None: ...

    def list_apps(self) -> list[AppRecord]:
        """Sorted by name."""

    def update_app(self, name: str, *, resource: dict[str, Any], now: float) -> AppRecord: ...

    def delete_app(self, name: str, *, now: float) -> None:
        """The app and everything of it goes: revisions, traffic, deploys, conditions,
        the observation, alert rules. An app created later with the name starts again
        from revision 1 and cannot reach the deleted app's revisions. (Executions are
        the execution store's: they stay, naming the app and revision they ran on.)"""

    def set_allowed_runs(self, name: str, kinds: Sequence[str], *, now: float) -> AppRecord:
        """Replace the kinds of ``run`` process the app may use beyond the platform's
        (``rules.RUN_KINDS``); ``InvalidValue`` for another kind."""

    # --- revisions ----------------------------------------------------------------
    def create_revision(
        self, app: str, *, digest: str, resource: dict[str, Any], now: float
    ) -> RevisionRecord:
        """The next revision (``building``), or the latest one if it has this digest.
        Concurrent calls never allocate the same number."""

    def set_revision_status(
        self, revision_id: str, *, status: str, message: str = ""
    ) -> RevisionRecord: ...

    def get_revision(self, revision_id: str) -> RevisionRecord | None: ...

    def list_revisions(self, app: str, *, limit: int | None = None) -> list[RevisionRecord]:
        """Newest first."""

    # --- traffic and deploys ------------------------------------------------------
    def set_traffic(self, app: str, splits: Sequence[tuple[str, int]]) -> list[TrafficSplit]:
        """Replace the app's splits; ``InvalidTraffic`` unless the percents (integers,
        0-100) add up to 100 over distinct revisions of this app."""

    def get_traffic(self, app: str) -> list[TrafficSplit]:
        """In the order they were set; [] before the first ``set_traffic``."""

    def create_deploy(
        self, app: str, *, revision_id: str, now: float, owner: str | None = None
    ) -> DeployRecord:
        """A ``running`` deploy of ``owner`` (the engine process that carries it out)."""

    def fail_interrupted_deploys(
        self, owner: str, *, now: float, message: str
    ) -> list[DeployRecord]:
        """At the start of ``owner``: its deploys still ``running`` were cut short (it
        stopped or crashed during them). Each is marked ``failed`` with ``message``,
        and its revision, if still ``building``, too. Deploys with no owner (made
        before owners were kept) count as this owner's. Returns them, failed."""

    def update_deploy(self, deploy_id: int, step: DeployStep, *, now: float) -> DeployRecord:
        """A final status (succeeded, failed) sets ``ended_at``; log text is appended."""

    def get_deploy(self, deploy_id: int) -> DeployRecord | None: ...

    def list_deploys(self, app: str, *, limit: int = 50) -> list[DeployRecord]:
        """Newest first."""


class TokenStore(Protocol):
    """The API's tokens (the server's authentication and the token routes)."""

    def create_token(
        self, name: str, *, role: str, now: float, apps: Sequence[str] = ()
    ) -> tuple[TokenRecord, str]:
        """The record and the token itself, which is never available again. ``apps``
        limits the token to those apps (``rules.check_token_apps``)."""

    def verify_token(self, plaintext: str, *, now: float) -> TokenRecord | None:
        """The live token with this secret, or None; records its use at most once a
        minute (``rules.TOKEN_TOUCH_SECONDS``)."""

    def list_tokens(self) -> list[TokenRecord]:
        """Every token, revoked ones too, by id."""

    def revoke_token(self, token_id: int, *, now: float) -> TokenRecord:
        """Idempotent: revoking twice keeps the first ``revoked_at``."""

    def count_tokens(self) -> int:
        """Tokens not revoked (the server creates a first admin token when 0)."""


class SecretStore(Protocol):
    """Apps' secrets, sealed by the caller (``flowapp.runtime.secrets``)."""

    def put_secret(
        self, app: str, name: str, *, key_id: str, sealed: bytes, now: float
    ) -> SecretRecord:
        """Create or replace a live app's secret (``created_at`` is kept on replace).
        The caller seals the value; the store keeps the bytes as given."""

    def delete_secret(self, app: str, name: str) -> None:
        """Raises ``NotFound`` when the app has no such secret."""

    def list_secrets(self, app: str | None = None) -> list[SecretRecord]:
        """By app, then name; every app's when ``app`` is None (the runtime's view).
        A deleted app has none: deleting it deletes them."""


class StatusStore(Protocol):
    """Each app's conditions and observation, as the syncer last wrote them."""

    def set_conditions(
        self, app: str, conditions: Sequence[Condition], *, now: float
    ) -> list[ConditionRecord]:
        """Upsert by type, keeping ``last_transition_time`` unless ``status`` changes;
        types not named are kept. Returns all of the app's conditions."""

    def get_conditions(self, app: str) -> list[ConditionRecord]:
        """Sorted by type."""

    def set_observation(self, observation: AppObservation) -> None: ...

    def get_observation(self, app: str) -> AppObservation | None: ...


class AlertStore(Protocol):
    """Alert rules, their state, and the outbox of their notifications."""

    def create_alert_rule(self, rule: AlertRuleSpec, *, now: float) -> AlertRuleRecord:
        """``AlreadyExists`` when the app has a rule of that name."""

    def get_alert_rule(self, rule_id: int) -> AlertRuleRecord | None: ...

    def list_alert_rules(self, app: str | None = None) -> list[AlertRuleRecord]:
        """By id; every app's when ``app`` is None (the evaluator's view)."""

    def set_alert_rule_enabled(self, rule_id: int, enabled: bool) -> AlertRuleRecord: ...

    def delete_alert_rule(self, rule_id: int) -> None:
        """Its state and its notifications go with it."""

    def get_alert_state(self, rule_id: int) -> AlertStateRecord | None: ...

    def set_alert_state(self, state: AlertStateRecord) -> None: ...

    def enqueue_notification(
        self, rule_id: int, payload: dict[str, Any], *, now: float
    ) -> NotificationRecord:
        """Due at once."""

    def due_notifications(
        self, *, now: float, limit: int, lease_seconds: float = 60.0
    ) -> list[NotificationRecord]:
        """Claim up to ``limit`` notifications due at ``now`` (oldest due first): their
        next attempt moves to ``now + lease_seconds``, so another deliverer skips them
        and a crash mid-delivery only delays them. ``SKIP LOCKED`` on PostgreSQL."""

    def mark_notification(
        self, notification_id: int, attempt: DeliveryAttempt, *, now: float
    ) -> NotificationRecord:
        """Count an attempt. Delivered: done. Failed: due again at ``next_attempt_at``,
        or never (given up) when it is None."""


class PlatformStore(AppStore, TokenStore, SecretStore, StatusStore, AlertStore, Protocol):
    """Safe to call from any number of threads. Every method is atomic: one transaction
    (``verify_token`` reads in one and records the use in a second, when due)."""

    def migrate(self) -> None:
        """Create or upgrade the schema (idempotent; the SQL adapter shares one Alembic
        history with the execution store, so either store's ``migrate`` does both)."""

    def close(self) -> None: ...
