"""Fixtures and builders for the platform store tests (``test_platform_*.py``).

``platform_store`` runs a test body on every adapter (memory, SQLite in ``tmp_path``,
PostgreSQL in the session's throwaway database, emptied first), like the execution
store's ``store`` fixture in ``conftest.py``. Import the fixture function into a test
module to use it (pytest finds fixtures among a module's names).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from flowapp.store.platform import (
    AlertRuleSpec,
    AppRecord,
    MemoryPlatformStore,
    PlatformStore,
    RevisionRecord,
)
from flowapp.store.platform.sql import SqlPlatformStore
from flowapp.store.platform.sql.tables import PLATFORM_TABLES

from .conftest import ADAPTERS, SQL_ADAPTERS

T0 = 1_700_000_000.0


def resource(name: str = "shop", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "flowapp.dev/v1alpha1",
        "kind": "FlowApp",
        "metadata": {"name": name, "namespace": "default"},
        "spec": spec or {"functions": {"append": {"runtime": "python"}}},
    }


def make_app(store: PlatformStore, name: str = "shop", now: float = T0) -> AppRecord:
    return store.create_app(name, namespace="default", resource=resource(name), now=now)


def make_revision(
    store: PlatformStore, app: str = "shop", digest: str = "sha256:aa", now: float = T0
) -> RevisionRecord:
    return store.create_revision(app, digest=digest, resource=resource(app), now=now)


def rule_spec(app: str = "shop", **changes: Any) -> AlertRuleSpec:
    values: dict[str, Any] = {
        "app": app,
        "name": "too-many-failures",
        "kind": "failed_executions",
        "threshold": 5.0,
        "window_seconds": 300.0,
        "webhook_url": "https://hooks.example.com/alerts",
    }
    return AlertRuleSpec(**(values | changes))


def _empty(store: SqlPlatformStore) -> None:
    names = ", ".join(table.name for table in PLATFORM_TABLES)
    with store.engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def open_platform_adapter(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> PlatformStore:
    if kind == "memory":
        return MemoryPlatformStore()
    if kind == "sqlite":
        store = SqlPlatformStore(f"sqlite:///{tmp_path / 'platform.db'}")
        store.migrate()
        return store
    store = SqlPlatformStore(request.getfixturevalue("postgres_database"))
    store.migrate()
    _empty(store)
    return store


@pytest.fixture(name="platform_store", params=ADAPTERS)
def platform_store_fixture(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[PlatformStore]:
    opened = open_platform_adapter(request.param, request, tmp_path)
    yield opened
    opened.close()


@pytest.fixture(name="sql_platform_store", params=SQL_ADAPTERS)
def sql_platform_store_fixture(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[SqlPlatformStore]:
    opened = open_platform_adapter(request.param, request, tmp_path)
    assert isinstance(opened, SqlPlatformStore)
    yield opened
    opened.close()
