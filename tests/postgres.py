"""The PostgreSQL server of the tests: an admin connection, and databases of their own.

``FLOWAPP_TEST_POSTGRES`` names the admin URL (default: the local server, trust auth).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import sqlalchemy as sa
from psycopg import sql

from tests.servers import unavailable

ADMIN_URL = os.environ.get("FLOWAPP_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def admin_connection() -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        unavailable(f"PostgreSQL UNREACHABLE at {ADMIN_URL}: {exc}; the tests needing it NOT run")


def database_url(name: str) -> str:
    return sa.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


@contextmanager
def throwaway_database(
    prefix: str, *, before_drop: Callable[[], object] | None = None
) -> Iterator[str]:
    """Create a database of our own (never touch shared ones), yield its URL, drop it.
    ``before_drop`` runs first, e.g. to wait for a server a test restarted."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin_connection() as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield database_url(name)
    finally:
        if before_drop is not None:
            before_drop()
        # A new connection: the server may have been restarted since.
        with admin_connection() as admin:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            admin.execute(drop.format(sql.Identifier(name)))


@contextmanager
def new_database(kind: str, folder: Path, prefix: str) -> Iterator[str]:
    """The URL of a database with no schema yet: a SQLite file in ``folder`` (``kind``
    "sqlite"), or a throwaway PostgreSQL database named after ``prefix``."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'fresh.db'}"
        return
    with throwaway_database(prefix) as url:
        yield url
