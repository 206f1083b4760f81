"""Turning a store URL into a configured SQLAlchemy engine, for SQLite or PostgreSQL.

SQLite (the embedded default): WAL journal so readers never block the writer,
``synchronous=NORMAL`` (a commit is durable once the WAL is synced at checkpoint; a
power cut may lose the last commits but never corrupts), a busy timeout instead of
immediate "database is locked" errors, and foreign keys on. pysqlite's own transaction
handling is switched off and we emit ``BEGIN`` ourselves: ``BEGIN IMMEDIATE`` for
writes, so a transaction that reads (the lease check) and then writes takes the write
lock up front and cannot fail half-way on a lock upgrade.

PostgreSQL: the psycopg 3 driver, ``pool_pre_ping`` so connections that died with a
server restart are replaced at checkout, and a connect timeout so an unreachable
server fails fast (as ``StoreUnavailable``, see ``errors.py``).

JSON goes through ``flowapp.store.codec`` on both (orjson, exact for every value).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url

from flowapp.store import codec

WRITE = "flowapp_write"  # execution option: this connection's transaction will write
SQLITE_BUSY_TIMEOUT_MS = 10_000
PG_CONNECT_TIMEOUT_S = 5


def normalise_url(url: str) -> URL:
    """``postgresql://`` means psycopg 3; a URL without a scheme is a SQLite file path."""
    if "://" not in url:
        return URL.create("sqlite", database=str(Path(url).expanduser()))
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() != "psycopg":
        raise ValueError(f"PostgreSQL is reached with psycopg 3 only, not {parsed.drivername}")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ValueError(f"unsupported store URL scheme: {parsed.drivername}")
    return parsed


def create_store_engine(url: str) -> Engine:
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return _postgresql_engine(parsed)


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        # Every pooled connection would see its own empty database.
        raise ValueError("an in-memory SQLite store is not supported; use memory:// instead")
    Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        url,
        json_serializer=codec.dumps_text,
        json_deserializer=codec.loads,
    )
    sa.event.listen(engine, "connect", _sqlite_connect)
    sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


def _switch_to_wal(cursor: Any) -> None:
    """Several first connections to a new file can race for the switch to WAL, and the
    busy handler does not cover it: retry it until the busy timeout."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (_sqlite_begin)
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        _switch_to_wal(cursor)
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction marked as writing (SQLite takes its write lock at ``BEGIN``)."""
    with engine.connect() as conn:
        conn.execution_options(**{WRITE: True})
        with conn.begin():
            yield conn


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn, conn.begin():
        yield conn


def _sqlite_begin(connection: Connection) -> None:
    write = connection.get_execution_options().get(WRITE, False)
    # Straight on the driver: SQLAlchemy's execution machinery costs more than the
    # statement, and every group commit begins a transaction.
    statement = "BEGIN IMMEDIATE" if write else "BEGIN"
    try:
        connection.connection.driver_connection.execute(statement)  # type: ignore[union-attr]
    except sqlite3.Error as error:  # as SQLAlchemy would have raised it (errors.py)
        raise sa.exc.DBAPIError.instance(statement, None, error, sqlite3.Error) from error


def _postgresql_engine(url: URL) -> Engine:
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
    return sa.create_engine(
        url,
        pool_pre_ping=True,
        connect_args=connect_args,
        # psycopg accepts bytes: no decode/encode round trip for every JSON value.
        json_serializer=codec.dumps,
        json_deserializer=codec.loads,
    )
