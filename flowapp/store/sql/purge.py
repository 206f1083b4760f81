"""Deleting old finished executions in small transactions (retention and ``purge``).

A batch is one transaction that touches at most ``limit`` task runs and ``limit``
executions, so the engine's commits, which wait for the write lock on SQLite and for
row locks nowhere (a purge only touches finished executions), are held up for one batch
at most. The candidates are read through ``ix_executions_status_ended``, in no
particular order (all of them are past the moment; an ``ORDER BY`` would sort every old
execution at each batch), so a batch reads about the rows it deletes. On PostgreSQL
they are locked ``FOR UPDATE SKIP LOCKED`` for the batch: a retry that reopens one of
them waits for the batch rather than racing it, and two processes purging at once take
different executions.

Deleting an execution's row cascades to its timers, subscriptions, outbox and signals
(the foreign keys say ``ON DELETE CASCADE``; SQLite enforces them, ``engine.py``); its
task runs go first, ``limit`` at a time, so that an execution of 10,000 task runs is
never one large transaction.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from flowapp.store.port import Purged, PurgeFilter
from flowapp.store.rules import FINAL_STATUSES, UNFINISHED_STATUSES
from flowapp.store.sql.tables import executions, outbox, task_runs


def purgeable(where: PurgeFilter) -> list[sa.ColumnElement[bool]]:
    """The conditions on ``executions`` that select what ``where`` lets go."""
    c = executions.c
    parent = executions.alias("parent")
    conditions: list[sa.ColumnElement[bool]] = [
        c.status.in_(FINAL_STATUSES),
        c.ended_at < where.ended_before,
        ~sa.exists().where(outbox.c.execution_id == c.id),
        ~sa.exists().where(parent.c.id == c.parent_id, parent.c.status.in_(UNFINISHED_STATUSES)),
    ]
    if where.app is not None:
        conditions.append(c.app == where.app)
    if where.except_apps:
        conditions.append(sa.or_(c.app.is_(None), c.app.not_in(where.except_apps)))
    return conditions


def count_purgeable(conn: Connection, where: PurgeFilter) -> Purged:
    conditions = purgeable(where)
    count = sa.select(sa.func.count()).select_from(executions).where(*conditions)
    selected = sa.select(executions.c.id).where(*conditions)
    runs = sa.select(sa.func.count()).where(task_runs.c.execution_id.in_(selected))
    return Purged(int(conn.scalar(count) or 0), int(conn.scalar(runs) or 0))


def candidates_per_batch(limit: int) -> int:
    """Executions a batch of ``limit`` task runs takes on: a fifth as many (an execution has
    a few task runs at least), since each is read, and on PostgreSQL locked, even when
    the batch's task runs come from the first few."""
    return max(1, limit // 5)


def purge_batch(conn: Connection, where: PurgeFilter, *, limit: int) -> Purged:
    """One batch (see the module docstring), inside the caller's write transaction."""
    if limit < 1:
        raise ValueError(f"a purge batch must delete at least 1 row, not {limit}")
    c = executions.c
    candidates = (
        sa.select(c.id)
        .where(*purgeable(where))
        .limit(candidates_per_batch(limit))
        .with_for_update(of=executions, skip_locked=True)
    )
    ids = list(conn.scalars(candidates))
    if not ids:
        return Purged()
    t = task_runs.c
    some_runs = (
        sa.select(t.execution_id, t.id).where(t.execution_id.in_(ids)).limit(limit).subquery()
    )
    runs = conn.execute(
        task_runs.delete().where(
            sa.tuple_(t.execution_id, t.id).in_(sa.select(some_runs.c.execution_id, some_runs.c.id))
        )
    ).rowcount
    emptied = executions.delete().where(c.id.in_(ids), ~sa.exists().where(t.execution_id == c.id))
    gone = conn.execute(emptied).rowcount
    return Purged(executions=gone, task_runs=runs)
