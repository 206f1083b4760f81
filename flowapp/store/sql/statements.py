"""The write statements of the SQL store, built once per dialect.

Each is meant for ``executemany``: one statement object, a list of parameter dicts. The
upserts use the dialect's own ``INSERT ... ON CONFLICT (...) DO UPDATE`` (SQLite and
PostgreSQL spell it the same, but SQLAlchemy builds it per dialect). Building them once
keeps statement construction off the commit path; SQLAlchemy caches their compiled SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from flowapp.store.sql.tables import (
    JSONValue,
    executions,
    outbox,
    signals,
    subscriptions,
    task_runs,
    timers,
    workflows,
)

Insert = Callable[[sa.Table], Any]  # the dialect's insert(), which has on_conflict_*
_INSERTS: dict[str, Insert] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


@dataclass(frozen=True, slots=True)
class WriteStatements:
    lock_executions: sa.Select[Any]
    update_execution: sa.Update
    upsert_task_run: Any
    upsert_timer: Any
    delete_timer: sa.Delete
    upsert_subscription: Any
    delete_subscription: sa.Delete
    insert_outbox: sa.Insert
    delete_signals: sa.Delete
    insert_workflow: Any
    insert_execution: sa.Insert


def build_statements(dialect_name: str) -> WriteStatements:
    insert = _INSERTS[dialect_name]
    return WriteStatements(
        lock_executions=_lock_executions(),
        update_execution=_update_execution(),
        upsert_task_run=_upsert(insert, task_runs),
        upsert_timer=_upsert(insert, timers),
        delete_timer=_delete_effect(timers),
        upsert_subscription=_upsert(insert, subscriptions),
        delete_subscription=_delete_effect(subscriptions),
        insert_outbox=sa.insert(outbox),
        delete_signals=sa.delete(signals).where(
            signals.c.id.in_(sa.bindparam("ids", expanding=True))
        ),
        insert_workflow=insert(workflows).on_conflict_do_nothing(index_elements=["id"]),
        insert_execution=sa.insert(executions),
    )


def _lock_executions() -> sa.Select[Any]:
    """The executions of a batch with their owners, locked in id order on PostgreSQL
    (so concurrent batches lock in one order and cannot deadlock); SQLite renders no
    FOR UPDATE and relies on BEGIN IMMEDIATE, its single writer."""
    return (
        sa.select(executions.c.id, executions.c.owner)
        .where(executions.c.id.in_(sa.bindparam("ids", expanding=True)))
        .order_by(executions.c.id)
        .with_for_update()
    )


def _update_execution() -> sa.Update:
    """Status, times and results always; state, started_at, workflow and revision only
    when given."""
    c = executions.c

    def keep(name: str, type_: Any = None) -> Any:
        return sa.func.coalesce(sa.bindparam(f"p_{name}", type_=type_ or c[name].type), c[name])

    return (
        sa.update(executions)
        .where(c.id == sa.bindparam("p_id"))
        .values(
            status=sa.bindparam("p_status"),
            updated_at=sa.bindparam("p_updated_at"),
            state=keep("state", JSONValue),
            started_at=keep("started_at"),
            output=sa.bindparam("p_output", type_=JSONValue),
            error=sa.bindparam("p_error", type_=JSONValue),
            ended_at=sa.bindparam("p_ended_at"),
            workflow_id=keep("workflow_id"),
            revision=keep("revision"),
        )
    )


def _upsert(insert: Insert, table: sa.Table) -> Any:
    statement = insert(table)
    keys = [column.name for column in table.primary_key.columns]
    updates = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
    return statement.on_conflict_do_update(index_elements=keys, set_=updates)


def _delete_effect(table: sa.Table) -> sa.Delete:
    return sa.delete(table).where(
        table.c.execution_id == sa.bindparam("p_execution_id"),
        table.c.effect_id == sa.bindparam("p_effect_id"),
    )
