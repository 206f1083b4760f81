"""The read queries of the SQL store that the API and the dashboard use.

Listing is keyset-paginated: newest first by (created_at, id), and the cursor is the
position of the last row served, so the next page is "rows before that position". Rows
inserted meanwhile never shift a page, and every filtered listing reads one index
(``ix_executions_*_created``) backwards from the cursor.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from flowapp.store.port import (
    ExecutionFilter,
    ExecutionRecord,
    Page,
    SubscriptionRecord,
    TaskRunRecord,
    WorkflowRecord,
)
from flowapp.store.rules import ascii_lower, decode_cursor, encode_cursor, may_match
from flowapp.store.sql import rows
from flowapp.store.sql.tables import executions, subscriptions, task_runs, workflows


def get_workflow(conn: Connection, workflow_id: str) -> WorkflowRecord | None:
    row = conn.execute(sa.select(workflows).where(workflows.c.id == workflow_id)).first()
    return None if row is None else rows.workflow_record(row)


def get_execution(conn: Connection, where: sa.ColumnElement[bool]) -> ExecutionRecord | None:
    row = conn.execute(sa.select(*rows.EXECUTION_COLUMNS).where(where)).first()
    return None if row is None else rows.execution_record(row)


def load_state(conn: Connection, execution_id: str) -> dict[str, Any] | None:
    query = sa.select(executions.c.state).where(executions.c.id == execution_id)
    state: dict[str, Any] | None = conn.scalar(query)
    return state


def load_executions(
    conn: Connection, execution_ids: list[str]
) -> list[tuple[ExecutionRecord, dict[str, Any] | None]]:
    query = sa.select(*rows.EXECUTION_COLUMNS, executions.c.state.label("snapshot")).where(
        executions.c.id.in_(execution_ids)
    )
    found = []
    for row in conn.execute(query):
        fields = dict(row._mapping)
        snapshot = fields.pop("snapshot")
        found.append((ExecutionRecord(**fields), snapshot))
    return found


def list_task_runs(
    conn: Connection, execution_id: str, *, after: int, limit: int | None
) -> list[TaskRunRecord]:
    """A range of the (execution_id, id) primary key: a page costs its own rows."""
    c = task_runs.c
    query = (
        sa.select(*rows.TASK_RUN_COLUMNS)
        .where(c.execution_id == execution_id, c.id > after)
        .order_by(c.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [rows.task_run_record(row) for row in conn.execute(query)]


def task_runs_by_id(conn: Connection, execution_id: str, ids: list[int]) -> list[TaskRunRecord]:
    c = task_runs.c
    query = (
        sa.select(*rows.TASK_RUN_COLUMNS)
        .where(c.execution_id == execution_id, c.id.in_(ids))
        .order_by(c.id)
    )
    return [rows.task_run_record(row) for row in conn.execute(query)]


def count_task_runs(conn: Connection, execution_id: str) -> int:
    query = sa.select(sa.func.count()).where(task_runs.c.execution_id == execution_id)
    return int(conn.scalar(query) or 0)


def list_executions(
    conn: Connection, where: ExecutionFilter, *, limit: int, cursor: str | None
) -> Page:
    c = executions.c
    conditions = filter_conditions(where)
    if cursor is not None:
        created_at, execution_id = decode_cursor(cursor)
        conditions.append(sa.tuple_(c.created_at, c.id) < sa.tuple_(created_at, execution_id))
    query = (
        sa.select(*rows.EXECUTION_COLUMNS)
        .where(*conditions)
        .order_by(c.created_at.desc(), c.id.desc())
        .limit(limit + 1)  # one more than asked tells whether another page exists
    )
    items = [rows.execution_record(row) for row in conn.execute(query)]
    if len(items) <= limit or limit <= 0:
        return Page(items=items[: max(limit, 0)], next_cursor=None)
    last = items[limit - 1]
    return Page(items=items[:limit], next_cursor=encode_cursor(last.created_at, last.id))


def count_executions(conn: Connection, where: ExecutionFilter) -> int:
    query = sa.select(sa.func.count()).select_from(executions).where(*filter_conditions(where))
    return int(conn.scalar(query) or 0)


def filter_conditions(where: ExecutionFilter) -> list[sa.ColumnElement[bool]]:
    """``started_after``/``started_before`` bound ``created_at`` as a half-open range
    [after, before): the time an execution was started by its trigger or caller."""
    c = executions.c
    pairs: list[tuple[Any, Any]] = [
        (where.app, lambda v: c.app == v),
        (where.workflow_id, lambda v: c.workflow_id == v),
        (where.status, lambda v: c.status == v),
        (where.started_after, lambda v: c.created_at >= v),
        (where.started_before, lambda v: c.created_at < v),
        (where.id_prefix, lambda v: c.id.startswith(v, autoescape=True)),
        (where.parent_id, lambda v: c.parent_id == v),
        (where.input_contains, _input_contains),
    ]
    return [condition(value) for value, condition in pairs if value is not None]


def _input_contains(text: str) -> sa.ColumnElement[bool]:
    """The input's JSON text (the codec's, the same on every adapter) holds ``text``, in
    any case of the letters A-Z (SQLite's ``lower`` folds only those)."""
    column = sa.func.lower(sa.cast(executions.c.input, sa.Text))
    return column.contains(ascii_lower(text), autoescape=True)


def subscriptions_matching(
    conn: Connection, attributes: dict[str, Any]
) -> list[SubscriptionRecord]:
    """Narrow by the indexed ``event_type`` in SQL, then check every alternative here."""
    c = subscriptions.c
    event_type = attributes.get("type")
    narrow: sa.ColumnElement[bool] = c.event_type.is_(None)
    if isinstance(event_type, str):
        narrow = sa.or_(narrow, c.event_type == event_type)
    query = (
        sa.select(c.execution_id, c.effect_id, c.attributes)
        .where(narrow)
        .order_by(c.execution_id, c.effect_id)
    )
    found = [SubscriptionRecord(**row._mapping) for row in conn.execute(query)]
    return [sub for sub in found if may_match(sub.attributes, attributes)]
