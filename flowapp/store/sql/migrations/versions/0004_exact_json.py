"""JSON columns keep the value's text exactly: ``TEXT`` on SQLite, ``json`` on PostgreSQL.

SQLite gave the ``JSON`` columns numeric affinity: the text of a bare number (an
execution whose input or output is ``42`` or ``1.5``) was stored as a number, ``1.0``
became the integer 1, and integers past 64 bits became floats. PostgreSQL's ``jsonb``
rewrites numbers (``1e16`` reads back as an integer) and refuses ``\\u0000``. ``TEXT``
and ``json`` store the text as written.

SQLite cannot change a column's type in place: each table is rebuilt (Alembic's batch
mode copies it into a new table), with foreign keys off for the whole upgrade
(``migrate.py``), so that dropping a parent table does not cascade to its children.
Values already stored as numbers stay numbers in the new ``TEXT`` columns' rows until
rewritten; the codec reads them as they are.

Create Date: 2026-12-01
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"

# table -> (its JSON columns, which of them may be NULL)
JSON_COLUMNS: dict[str, dict[str, bool]] = {
    "workflows": {"document": False, "functions": False},
    "executions": {"input": True, "output": True, "error": True, "state": True},
    "task_runs": {"input": True, "output": True, "error": True},
    "subscriptions": {"attributes": False},
    "outbox": {"payload": False},
    "signals": {"payload": False},
    "apps": {"resource": False},
    "app_revisions": {"resource": False},
    "app_observations": {"functions": False, "triggers": False},
    "api_tokens": {"apps": True},
    "alert_notifications": {"payload": False},
}
# Batch mode cannot see AUTOINCREMENT in the reflected table: name it again.
AUTOINCREMENT = frozenset({"outbox", "signals", "api_tokens", "alert_notifications"})


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _retype_postgresql(postgresql.JSON(), "json")
    else:
        _retype_sqlite(sa.Text(), sa.JSON())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _retype_postgresql(postgresql.JSONB(), "jsonb")
    else:
        _retype_sqlite(sa.JSON(), sa.Text())


def _retype_postgresql(new_type: sa.types.TypeEngine[Any], cast: str) -> None:
    for table, columns in JSON_COLUMNS.items():
        for column, nullable in columns.items():
            op.alter_column(
                table,
                column,
                type_=new_type,
                existing_nullable=nullable,
                postgresql_using=f"{column}::{cast}",
            )


def _retype_sqlite(new_type: sa.types.TypeEngine[Any], old_type: sa.types.TypeEngine[Any]) -> None:
    for table, columns in JSON_COLUMNS.items():
        options = {"sqlite_autoincrement": True} if table in AUTOINCREMENT else {}
        with op.batch_alter_table(table, recreate="always", table_kwargs=options) as batch:
            for column, nullable in columns.items():
                batch.alter_column(
                    column, type_=new_type, existing_type=old_type, existing_nullable=nullable
                )
    check = op.get_bind().exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if check:
        raise RuntimeError(f"rebuilding the tables broke foreign keys: {check[:5]}")
