"""Schema migrations: Alembic, driven from code (no alembic.ini at run time).

``upgrade(engine)`` runs ``alembic upgrade head`` on one connection of the store's own
engine, inside one transaction (DDL is transactional on both databases). Several
processes may start at once against one PostgreSQL database, so the upgrade holds a
transaction-scoped advisory lock: the others wait, then find the schema at head and do
nothing. On SQLite, ``BEGIN IMMEDIATE`` serialises them the same way, and foreign keys
are off while the scripts run (a table rebuilt by a migration is dropped and recreated,
and dropping a parent table with foreign keys on would delete its children's rows);
the scripts that rebuild tables check the keys themselves before committing.

The migration scripts live in ``migrations/versions``; their version table is
``flowapp_store_version`` so that other components may keep their own Alembic history
in the same database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from flowapp.store.sql.engine import WRITE, write_transaction

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "flowapp_store_version"
# pg_advisory_xact_lock key: "flowapp store migrations" (any constant shared by all).
ADVISORY_LOCK_KEY = 0x666C6F7761707031


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    # ConfigParser interpolates '%': escape it in case the install path has one.
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.attributes["connection"] = connection
    config.attributes["version_table"] = VERSION_TABLE
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    if engine.dialect.name == "sqlite":
        _upgrade_sqlite(engine, revision)
        return
    with write_transaction(engine) as conn:
        lock = sa.text("SELECT pg_advisory_xact_lock(:key)")
        conn.execute(lock, {"key": ADVISORY_LOCK_KEY})
        command.upgrade(alembic_config(conn), revision)


def _upgrade_sqlite(engine: Engine, revision: str) -> None:
    """``PRAGMA foreign_keys`` is ignored inside a transaction: set it on the driver's
    connection before ``BEGIN`` (pysqlite runs in autocommit mode here, see engine.py)."""
    with engine.connect() as conn:
        driver: Any = conn.connection.driver_connection
        driver.execute("PRAGMA foreign_keys = OFF")
        try:
            conn.execution_options(**{WRITE: True})
            with conn.begin():
                command.upgrade(alembic_config(conn), revision)
        finally:
            driver.execute("PRAGMA foreign_keys = ON")


def current_revision(conn: Connection) -> str | None:
    context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
