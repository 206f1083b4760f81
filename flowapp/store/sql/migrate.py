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
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from flowapp.store.sql.engine import WRITE, read_transaction, write_transaction

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "flowapp_store_version"
# pg_advisory_xact_lock key: "flowapp store migrations" (any constant shared by all).
ADVISORY_LOCK_KEY = 0x666C6F7761707031


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    # ConfigParser interpolates '%': escape it in case the install path has one.
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.attributes["connection"] = connection
    config.attributes["version_table"] = VERSION_TABLE
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    if revision == "head" and _at_head(engine):
        return  # every command opens its store this way: a current one costs one query
    from alembic import command

    if engine.dialect.name == "sqlite":
        _upgrade_sqlite(engine, revision)
        return
    with write_transaction(engine) as conn:
        lock = sa.text("SELECT pg_advisory_xact_lock(:key)")
        conn.execute(lock, {"key": ADVISORY_LOCK_KEY})
        command.upgrade(alembic_config(conn), revision)


def newest_revision() -> str:
    """The newest script's revision, read from the file names (``0007_….py`` holds
    revision ``0007``), so that finding a store current loads neither Alembic nor its
    scripts (about 0.2 s of a CLI command); a test keeps it equal to Alembic's head."""
    names = (path.name for path in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))
    return max(name.split("_", 1)[0] for name in names)


def _at_head(engine: Engine) -> bool:
    try:
        with read_transaction(engine) as conn:
            found = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
    except sa.exc.DBAPIError:  # no version table yet: a new store
        return False
    return [row[0] for row in found] == [newest_revision()]


def _upgrade_sqlite(engine: Engine, revision: str) -> None:
    """``PRAGMA foreign_keys`` is ignored inside a transaction: set it on the driver's
    connection before ``BEGIN`` (pysqlite runs in autocommit mode here, see engine.py)."""
    with engine.connect() as conn:
        driver: Any = conn.connection.driver_connection
        driver.execute("PRAGMA foreign_keys = OFF")
        try:
            conn.execution_options(**{WRITE: True})
            with conn.begin():
                from alembic import command

                command.upgrade(alembic_config(conn), revision)
        finally:
            driver.execute("PRAGMA foreign_keys = ON")


def current_revision(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
