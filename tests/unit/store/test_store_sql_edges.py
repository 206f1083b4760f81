"""Pure pieces of the SQL adapter: URLs, error classification, chunking, statements."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from sqlalchemy import exc
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect

from flowapp.store import StoreError, StoreUnavailable
from flowapp.store.sql.chunks import chunked
from flowapp.store.sql.engine import create_store_engine, normalise_url
from flowapp.store.sql.errors import is_transient, translate_errors
from flowapp.store.sql.leases import claim
from flowapp.store.sql.migrate import head_revision, newest_revision
from flowapp.store.sql.statements import build_statements


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        (
            "postgres://u@h:5433/db?sslmode=disable",
            "postgresql+psycopg://u@h:5433/db?sslmode=disable",
        ),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///var/flowapp.db", "sqlite:///var/flowapp.db"),
        ("/var/lib/flowapp/state.db", "sqlite:////var/lib/flowapp/state.db"),
        ("state.db", "sqlite:///state.db"),
    ],
)
def test_urls_are_normalised(url: str, expected: str) -> None:
    assert normalise_url(url).render_as_string(hide_password=False) == expected


@pytest.mark.parametrize("url", ["mysql://u@h/db", "postgresql+psycopg2://u@h/db"])
def test_other_databases_and_drivers_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        normalise_url(url)


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_in_memory_sqlite_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="memory://"):
        create_store_engine(url)


def dbapi_error(kind: type[exc.DBAPIError], orig: BaseException) -> exc.DBAPIError:
    return kind("SELECT 1", {}, orig)


def sqlite_error(code: int) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError("boom")
    error.sqlite_errorcode = code
    return error


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (dbapi_error(exc.OperationalError, psycopg.errors.AdminShutdown("bye")), True),
        (dbapi_error(exc.OperationalError, psycopg.errors.DeadlockDetected("x")), True),
        (dbapi_error(exc.OperationalError, psycopg.errors.SerializationFailure("x")), True),
        (dbapi_error(exc.OperationalError, psycopg.OperationalError("refused")), True),
        (dbapi_error(exc.ProgrammingError, psycopg.errors.UndefinedTable("x")), False),
        (dbapi_error(exc.IntegrityError, psycopg.errors.UniqueViolation("x")), False),
        (dbapi_error(exc.OperationalError, sqlite_error(5)), True),  # BUSY
        (dbapi_error(exc.OperationalError, sqlite_error(261)), True),  # BUSY_RECOVERY
        (dbapi_error(exc.OperationalError, sqlite_error(1)), False),  # no such table
    ],
)
def test_transient_errors_are_told_apart(error: exc.DBAPIError, transient: bool) -> None:
    assert is_transient(error) is transient
    expected = StoreUnavailable if transient else StoreError
    with pytest.raises(expected) as caught, translate_errors("test"):
        raise error
    assert caught.value.__cause__ is error
    assert transient or not isinstance(caught.value, StoreUnavailable)


def test_pool_timeouts_are_unavailable() -> None:
    with pytest.raises(StoreUnavailable), translate_errors("test"):
        raise exc.TimeoutError("pool exhausted")


def test_chunks() -> None:
    assert list(chunked(range(5), 2)) == [[0, 1], [2, 3], [4]]
    assert list(chunked([], 2)) == []


def test_postgresql_locks_rows_and_sqlite_relies_on_its_single_writer() -> None:
    pg, lite = psycopg_dialect(), sqlite.dialect()  # type: ignore[no-untyped-call]
    lock = build_statements("postgresql").lock_executions
    assert "FOR UPDATE" in str(lock.compile(dialect=pg))
    assert "FOR UPDATE" not in str(build_statements("sqlite").lock_executions.compile(dialect=lite))
    upsert = str(build_statements("postgresql").upsert_task_run.compile(dialect=pg))
    assert "ON CONFLICT (execution_id, id) DO UPDATE" in upsert
    assert claim.__doc__ is not None and "SKIP LOCKED" in claim.__doc__


def test_the_newest_migration_file_names_alembics_head() -> None:
    """A current store is recognised without Alembic, by the newest script's file name."""
    assert newest_revision() == head_revision()
