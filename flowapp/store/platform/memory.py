"""``MemoryPlatformStore``: the in-memory fake of the platform store (``memory://``).

Plain dicts of frozen records behind one lock. It applies the same rules as the SQL
adapter (``rules.py``, ``tokens.py``) and the shared test bodies in
``tests/integration/store/test_platform_*`` keep the two in step. JSON values are
copied through JSON on the way in and out, as a database would, so callers never share
mutable state with the store. Alerts live in ``memory_alerts.py`` and secrets in
``memory_secrets.py``, mixins over the same tables, to keep each module small.
Part of the public testing kit (with ``MemoryStore``): the API's tests run the real
platform over it (``tests/platforms.py``, ``docs/api.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from flowapp.store.platform import rules, tokens
from flowapp.store.platform.memory_alerts import MemoryAlerts
from flowapp.store.platform.memory_secrets import MemorySecrets
from flowapp.store.platform.memory_tables import MemoryTables, copy_app, copy_revision
from flowapp.store.platform.records import (
    AppExists,
    AppObservation,
    AppRecord,
    Condition,
    ConditionRecord,
    DeployRecord,
    DeployStep,
    InvalidTraffic,
    NotFound,
    RevisionRecord,
    TokenRecord,
    TrafficSplit,
)
from flowapp.store.rules import json_copy


class MemoryPlatformStore(MemoryAlerts, MemorySecrets):
    """Thread-safe in-memory ``PlatformStore``: every method runs under one lock."""

    def __init__(self) -> None:
        self._tables = MemoryTables()
        self._lock = self._tables.lock

    def migrate(self) -> None:
        """Nothing to create: the tables are dicts."""

    def close(self) -> None:
        """Nothing to release; the data stays readable, as after reopening a database."""

    # --- apps ---------------------------------------------------------------------
    def create_app(
        self, name: str, *, namespace: str, resource: dict[str, Any], now: float
    ) -> AppRecord:
        app = rules.new_app(name, namespace, resource, now)
        with self._lock:
            if name in self._tables.apps:
                raise AppExists(name)
            self._tables.apps[name] = app
            return copy_app(app)

    def get_app(self, name: str) -> AppRecord | None:
        with self._lock:
            app = self._tables.apps.get(name)
        return None if app is None else copy_app(app)

    def list_apps(self) -> list[AppRecord]:
        with self._lock:
            apps = sorted(self._tables.apps.values(), key=lambda app: app.name)
        return [copy_app(app) for app in apps]

    def update_app(self, name: str, *, resource: dict[str, Any], now: float) -> AppRecord:
        rules.check_object(resource, "resource")
        copied = json_copy(resource)
        with self._lock:
            app = replace(self._tables.need_app(name), resource=copied, updated_at=now)
            self._tables.apps[name] = app
            return copy_app(app)

    def set_allowed_runs(self, name: str, kinds: Sequence[str], *, now: float) -> AppRecord:
        allowed = rules.check_run_kinds(kinds)
        with self._lock:
            app = replace(self._tables.need_app(name), allowed_runs=allowed, updated_at=now)
            self._tables.apps[name] = app
            return copy_app(app)

    def delete_app(self, name: str, *, now: float) -> None:
        with self._lock:
            self._tables.need_app(name)
            self._tables.forget_app(name)

    # --- revisions ----------------------------------------------------------------
    def create_revision(
        self, app: str, *, digest: str, resource: dict[str, Any], now: float
    ) -> RevisionRecord:
        rules.check_revision(digest, resource)
        copied = json_copy(resource)
        with self._lock:
            self._tables.need_app(app)
            latest = self._tables.latest_revision(app)
            if latest is not None and latest.digest == digest:
                return copy_revision(latest)
            number = 1 if latest is None else latest.number + 1
            revision_id = rules.revision_id(app, number)
            revision = RevisionRecord(app, number, revision_id, digest, copied, now, "building")
            self._tables.revisions[revision_id] = revision
            return copy_revision(revision)

    def set_revision_status(
        self, revision_id: str, *, status: str, message: str = ""
    ) -> RevisionRecord:
        rules.check_choice(status, rules.REVISION_STATUSES, "revision status")
        with self._lock:
            revision = self._tables.revisions.get(revision_id)
            if revision is None:
                raise NotFound("revision", revision_id)
            revision = replace(revision, status=status, message=message)
            self._tables.revisions[revision_id] = revision
            return copy_revision(revision)

    def get_revision(self, revision_id: str) -> RevisionRecord | None:
        with self._lock:
            revision = self._tables.revisions.get(revision_id)
        return None if revision is None else copy_revision(revision)

    def list_revisions(self, app: str, *, limit: int | None = None) -> list[RevisionRecord]:
        rules.check_limit(limit)
        with self._lock:
            found = [r for r in self._tables.revisions.values() if r.app == app]
        found.sort(key=lambda revision: revision.number, reverse=True)
        return [copy_revision(revision) for revision in found[:limit]]

    # --- traffic and deploys ------------------------------------------------------
    def set_traffic(self, app: str, splits: Sequence[tuple[str, int]]) -> list[TrafficSplit]:
        checked = rules.check_traffic(splits)
        with self._lock:
            self._tables.need_app(app)
            for split in checked:
                revision = self._tables.revisions.get(split.revision_id)
                if revision is None or revision.app != app:
                    raise InvalidTraffic(f"{split.revision_id} is not a revision of {app}")
            self._tables.traffic[app] = checked
        return list(checked)

    def get_traffic(self, app: str) -> list[TrafficSplit]:
        with self._lock:
            return list(self._tables.traffic.get(app, []))

    def create_deploy(
        self, app: str, *, revision_id: str, now: float, owner: str | None = None
    ) -> DeployRecord:
        with self._lock:
            self._tables.need_app(app)
            revision = self._tables.revisions.get(revision_id)
            if revision is None or revision.app != app:
                raise NotFound("revision", revision_id)
            deploy_id = next(self._tables.deploy_ids)
            deploy = DeployRecord(deploy_id, app, revision_id, now, "running", owner=owner)
            self._tables.deploys[deploy.id] = deploy
            return deploy

    def fail_interrupted_deploys(
        self, owner: str, *, now: float, message: str
    ) -> list[DeployRecord]:
        with self._lock:
            cut = [d for d in self._tables.deploys.values() if rules.interrupted(d, owner)]
            failed = []
            for deploy in sorted(cut, key=lambda deploy: deploy.id):
                done = rules.updated_deploy(deploy, rules.cut_short(message), now=now)
                self._tables.deploys[deploy.id] = done
                revision = self._tables.revisions.get(deploy.revision_id)
                if revision is not None and revision.status == "building":
                    failed_revision = replace(revision, status="failed", message=message)
                    self._tables.revisions[revision.id] = failed_revision
                failed.append(done)
            return failed

    def update_deploy(self, deploy_id: int, step: DeployStep, *, now: float) -> DeployRecord:
        rules.check_deploy_status(step.status)
        with self._lock:
            deploy = self._tables.deploys.get(deploy_id)
            if deploy is None:
                raise NotFound("deploy", deploy_id)
            deploy = rules.updated_deploy(deploy, step, now=now)
            self._tables.deploys[deploy_id] = deploy
            return deploy

    def get_deploy(self, deploy_id: int) -> DeployRecord | None:
        with self._lock:
            return self._tables.deploys.get(deploy_id)

    def list_deploys(self, app: str, *, limit: int = 50) -> list[DeployRecord]:
        rules.check_limit(limit)
        with self._lock:
            found = [d for d in self._tables.deploys.values() if d.app == app]
        return sorted(found, key=lambda deploy: deploy.id, reverse=True)[:limit]

    # --- tokens -------------------------------------------------------------------
    def create_token(
        self, name: str, *, role: str, now: float, apps: Sequence[str] = ()
    ) -> tuple[TokenRecord, str]:
        scope = rules.check_token(name, role, apps)
        plaintext = tokens.new_token()
        prefix, secret_hash = tokens.display_prefix(plaintext), tokens.hash_token(plaintext)
        with self._lock:
            token_id = next(self._tables.token_ids)
            record = TokenRecord(
                token_id, name, role, prefix, secret_hash, created_at=now, apps=scope
            )
            self._tables.tokens[token_id] = record
        return record, plaintext

    def verify_token(self, plaintext: str, *, now: float) -> TokenRecord | None:
        if not tokens.well_formed(plaintext):
            return None
        prefix = tokens.display_prefix(plaintext)
        with self._lock:
            live = self._tables.tokens.values()
            candidates = [t for t in live if t.prefix == prefix and t.revoked_at is None]
            found = tokens.find_match(candidates, plaintext)
            if found is not None and rules.needs_touch(found.last_used_at, now):
                found = replace(found, last_used_at=now)
                self._tables.tokens[found.id] = found
            return found

    def list_tokens(self) -> list[TokenRecord]:
        with self._lock:
            return sorted(self._tables.tokens.values(), key=lambda token: token.id)

    def revoke_token(self, token_id: int, *, now: float) -> TokenRecord:
        with self._lock:
            token = self._tables.tokens.get(token_id)
            if token is None:
                raise NotFound("token", token_id)
            if token.revoked_at is None:
                token = replace(token, revoked_at=now)
                self._tables.tokens[token_id] = token
            return token

    def count_tokens(self) -> int:
        with self._lock:
            return sum(1 for token in self._tables.tokens.values() if token.revoked_at is None)

    # --- conditions and observations ----------------------------------------------
    def set_conditions(
        self, app: str, conditions: Sequence[Condition], *, now: float
    ) -> list[ConditionRecord]:
        rules.check_conditions(conditions)
        with self._lock:
            self._tables.need_app(app)
            stored = self._tables.conditions.setdefault(app, {})
            for condition in conditions:
                previous = stored.get(condition.type)
                stored[condition.type] = rules.next_condition(app, previous, condition, now)
            return [stored[key] for key in sorted(stored)]

    def get_conditions(self, app: str) -> list[ConditionRecord]:
        with self._lock:
            stored = self._tables.conditions.get(app, {})
            return [stored[key] for key in sorted(stored)]

    def set_observation(self, observation: AppObservation) -> None:
        rules.check_observation(observation)
        copied = replace(
            observation,
            functions=json_copy(observation.functions),
            triggers=json_copy(observation.triggers),
        )
        with self._lock:
            self._tables.need_app(observation.app)
            self._tables.observations[observation.app] = copied

    def get_observation(self, app: str) -> AppObservation | None:
        with self._lock:
            found = self._tables.observations.get(app)
        if found is None:
            return None
        functions, triggers = json_copy(found.functions), json_copy(found.triggers)
        return replace(found, functions=functions, triggers=triggers)
