"""The ``store`` fixture: every test body here runs on each adapter of the store port.

- ``memory``: ``MemoryStore``;
- ``sqlite``: ``SqlStore`` on a file in ``tmp_path``;
- ``postgresql``: ``SqlStore`` on a database created for this test session (and dropped
  after it), emptied before each test. The server is ``FLOWAPP_TEST_POSTGRES`` (an
  admin URL, default ``postgresql://postgres@127.0.0.1:5432/postgres``). When it cannot
  be reached the PostgreSQL variants are skipped with the reason, except under CI
  (``CI`` set), where that is a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from flowapp.store import MemoryStore, Store
from flowapp.store.sql import SqlStore
from flowapp.store.sql.tables import ALL_TABLES
from tests.postgres import throwaway_database

ADAPTERS = ["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
SQL_ADAPTERS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """The database of this test session; each test empties it first."""
    with throwaway_database("flowapp_store_test") as url:
        yield url


def _empty(store: SqlStore) -> None:
    names = ", ".join(table.name for table in ALL_TABLES)
    with store.engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def open_adapter(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if kind == "memory":
        return MemoryStore()
    if kind == "sqlite":
        store = SqlStore(f"sqlite:///{tmp_path / 'store.db'}")
        store.migrate()
        return store
    store = SqlStore(request.getfixturevalue("postgres_database"))
    store.migrate()
    _empty(store)
    return store


@pytest.fixture(params=ADAPTERS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened = open_adapter(request.param, request, tmp_path)
    yield opened
    opened.close()


@pytest.fixture(params=SQL_ADAPTERS)
def sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    opened = open_adapter(request.param, request, tmp_path)
    assert isinstance(opened, SqlStore)
    yield opened
    opened.close()


@pytest.fixture
def pg_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    opened = open_adapter("postgresql", request, tmp_path)
    assert isinstance(opened, SqlStore)
    yield opened
    opened.close()
