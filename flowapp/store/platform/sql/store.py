"""``SqlPlatformStore``: the platform store port over SQLAlchemy Core (SQLite, PostgreSQL).

The seam, like ``flowapp.store.sql.SqlStore``: it validates input with the shared
rules, opens one transaction per call (``base.py``: marked as a write where it writes,
so SQLite takes its write lock up front), converts driver errors to the port's
(``flowapp.store.sql.errors``) and delegates the SQL to ``apps.py``, ``rollout.py``,
``access.py``, ``status.py`` and ``alerts.py`` (through ``alerting.py``).

It is built on the execution store's engine factory, so one URL (and one SQLite file)
serves both stores; ``migrate()`` runs the one Alembic history they share. Given an
``Engine`` instead of a URL (e.g. ``SqlStore(url).engine``), it shares that engine's
connection pool and leaves disposing of it to its owner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import exc

from flowapp.store.platform import rules, tokens
from flowapp.store.platform.records import (
    AppExists,
    AppObservation,
    AppRecord,
    Condition,
    ConditionRecord,
    DeployRecord,
    DeployStep,
    RevisionRecord,
    TokenRecord,
    TrafficSplit,
)
from flowapp.store.platform.sql import access, apps, rollout, status
from flowapp.store.platform.sql.alerting import SqlAlerts
from flowapp.store.platform.sql.secrets import SqlSecrets
from flowapp.store.rules import json_copy
from flowapp.store.sql.errors import translated


class SqlPlatformStore(SqlAlerts, SqlSecrets):
    """A ``PlatformStore`` on SQLite (``sqlite:///path``) or PostgreSQL; built from a URL
    or from an ``Engine`` to share (``flowapp.store.sql.base``). Alerts: ``alerting.py``;
    secrets: ``secrets.py``."""

    # --- apps ---------------------------------------------------------------------
    @translated
    def create_app(
        self, name: str, *, namespace: str, resource: dict[str, Any], now: float
    ) -> AppRecord:
        app = rules.new_app(name, namespace, resource, now)
        try:
            with self._write() as conn:
                apps.create_app(conn, app)
        except exc.IntegrityError as error:
            # The transaction is rolled back; look for a row that won, outside it.
            if self.get_app(name) is not None:
                raise AppExists(name) from error
            raise
        return app

    @translated
    def get_app(self, name: str) -> AppRecord | None:
        with self._read() as conn:
            return apps.get_app(conn, name)

    @translated
    def list_apps(self) -> list[AppRecord]:
        with self._read() as conn:
            return apps.list_apps(conn)

    @translated
    def update_app(self, name: str, *, resource: dict[str, Any], now: float) -> AppRecord:
        rules.check_object(resource, "resource")
        with self._write() as conn:
            return apps.update_app(conn, name, resource=json_copy(resource), now=now)

    @translated
    def set_allowed_runs(self, name: str, kinds: Sequence[str], *, now: float) -> AppRecord:
        allowed = rules.check_run_kinds(kinds)
        with self._write() as conn:
            return apps.set_allowed_runs(conn, name, allowed, now=now)

    @translated
    def delete_app(self, name: str, *, now: float) -> None:
        with self._write() as conn:
            apps.delete_app(conn, name)

    # --- revisions ----------------------------------------------------------------
    @translated
    def create_revision(
        self, app: str, *, digest: str, resource: dict[str, Any], now: float
    ) -> RevisionRecord:
        rules.check_revision(digest, resource)
        with self._write() as conn:
            return apps.create_revision(
                conn, app, digest=digest, resource=json_copy(resource), now=now
            )

    @translated
    def set_revision_status(
        self, revision_id: str, *, status: str, message: str = ""
    ) -> RevisionRecord:
        rules.check_choice(status, rules.REVISION_STATUSES, "revision status")
        with self._write() as conn:
            return apps.set_revision_status(conn, revision_id, status=status, message=message)

    @translated
    def get_revision(self, revision_id: str) -> RevisionRecord | None:
        with self._read() as conn:
            return apps.get_revision(conn, revision_id)

    @translated
    def list_revisions(self, app: str, *, limit: int | None = None) -> list[RevisionRecord]:
        rules.check_limit(limit)
        with self._read() as conn:
            return apps.list_revisions(conn, app, limit=limit)

    # --- traffic and deploys ------------------------------------------------------
    @translated
    def set_traffic(self, app: str, splits: Sequence[tuple[str, int]]) -> list[TrafficSplit]:
        checked = rules.check_traffic(splits)
        with self._write() as conn:
            rollout.set_traffic(conn, app, checked)
        return checked

    @translated
    def get_traffic(self, app: str) -> list[TrafficSplit]:
        with self._read() as conn:
            return rollout.get_traffic(conn, app)

    @translated
    def create_deploy(
        self, app: str, *, revision_id: str, now: float, owner: str | None = None
    ) -> DeployRecord:
        with self._write() as conn:
            return rollout.create_deploy(conn, app, revision_id=revision_id, now=now, owner=owner)

    @translated
    def fail_interrupted_deploys(
        self, owner: str, *, now: float, message: str
    ) -> list[DeployRecord]:
        with self._write() as conn:
            return rollout.fail_interrupted(conn, owner, now=now, message=message)

    @translated
    def update_deploy(self, deploy_id: int, step: DeployStep, *, now: float) -> DeployRecord:
        rules.check_deploy_status(step.status)
        with self._write() as conn:
            return rollout.update_deploy(conn, deploy_id, step, now=now)

    @translated
    def get_deploy(self, deploy_id: int) -> DeployRecord | None:
        with self._read() as conn:
            return rollout.get_deploy(conn, deploy_id)

    @translated
    def list_deploys(self, app: str, *, limit: int = 50) -> list[DeployRecord]:
        rules.check_limit(limit)
        with self._read() as conn:
            return rollout.list_deploys(conn, app, limit=limit)

    # --- tokens -------------------------------------------------------------------
    @translated
    def create_token(
        self, name: str, *, role: str, now: float, apps: Sequence[str] = ()
    ) -> tuple[TokenRecord, str]:
        scope = rules.check_token(name, role, apps)
        with self._write() as conn:
            return access.create_token(conn, name=name, role=role, now=now, apps=scope)

    @translated
    def verify_token(self, plaintext: str, *, now: float) -> TokenRecord | None:
        """A read on every API request; a write at most once a minute per token."""
        if not tokens.well_formed(plaintext):
            return None
        with self._read() as conn:
            found = access.find_token(conn, plaintext)
        if found is None or not rules.needs_touch(found.last_used_at, now):
            return found
        with self._write() as conn:
            access.touch(conn, found.id, now=now)
        return replace(found, last_used_at=now)

    @translated
    def list_tokens(self) -> list[TokenRecord]:
        with self._read() as conn:
            return access.list_tokens(conn)

    @translated
    def revoke_token(self, token_id: int, *, now: float) -> TokenRecord:
        with self._write() as conn:
            return access.revoke_token(conn, token_id, now=now)

    @translated
    def count_tokens(self) -> int:
        with self._read() as conn:
            return access.count_tokens(conn)

    # --- conditions and observations ----------------------------------------------
    @translated
    def set_conditions(
        self, app: str, conditions: Sequence[Condition], *, now: float
    ) -> list[ConditionRecord]:
        rules.check_conditions(conditions)
        with self._write() as conn:
            return status.set_conditions(conn, app, conditions, now=now)

    @translated
    def get_conditions(self, app: str) -> list[ConditionRecord]:
        with self._read() as conn:
            return status.get_conditions(conn, app)

    @translated
    def set_observation(self, observation: AppObservation) -> None:
        rules.check_observation(observation)
        with self._write() as conn:
            status.set_observation(conn, observation)

    @translated
    def get_observation(self, app: str) -> AppObservation | None:
        with self._read() as conn:
            return status.get_observation(conn, app)
