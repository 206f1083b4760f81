"""Leases, and the per-owner queues (timers, outbox, signals) that follow them.

Several engine processes share one PostgreSQL database; each execution is advanced by
the one process that holds its lease (``executions.owner`` until ``lease_until``).

- ``claim``: pick unfinished executions whose lease is free, expired, or the caller's
  own, oldest first, and take them. On PostgreSQL the pick is ``FOR UPDATE SKIP
  LOCKED``, so processes claiming at the same moment skip each other's rows instead of
  waiting for them, and never take the same execution. SQLite has one writer at a time
  (``BEGIN IMMEDIATE``), which gives the same guarantee.
- ``renew``: push ``lease_until`` forward for everything the owner holds.
- ``release``: give leases back (at shutdown, or when an execution is finished).

A lease is only taken from its owner by someone else's claim after it expired; until
then the owner's checkpoints keep committing (``plan.check_leases``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from flowapp.engine.state import FAULTED
from flowapp.store.port import LeaseClaim, OutboxItem, SignalRecord, TimerRecord
from flowapp.store.rules import UNFINISHED_STATUSES
from flowapp.store.sql.chunks import chunked
from flowapp.store.sql.tables import executions, outbox, signals, timers


def claim(conn: Connection, claim: LeaseClaim, *, now: float) -> list[str]:
    """One statement: ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)``,
    so the ids never travel to Python and back (a restart may claim thousands)."""
    c = executions.c
    free = sa.or_(c.owner.is_(None), c.lease_until.is_(None))
    if claim.include_own:
        free = sa.or_(free, c.owner == claim.owner)
    pick = (
        sa.select(c.id)
        .where(c.status.in_(UNFINISHED_STATUSES), sa.or_(free, c.lease_until < now))
        .order_by(c.created_at, c.id)
        .limit(claim.limit)
        .with_for_update(skip_locked=True)
    )
    take = (
        sa.update(executions)
        .where(c.id.in_(pick))
        .values(owner=claim.owner, lease_until=now + claim.lease_seconds)
        .returning(c.id, c.created_at)
    )
    taken = sorted((row.created_at, row.id) for row in conn.execute(take))
    return [execution_id for _, execution_id in taken]


def renew(conn: Connection, owner: str, *, now: float, lease_seconds: float) -> list[str]:
    c = executions.c
    statement = (
        sa.update(executions)
        .where(c.owner == owner, c.status.in_(UNFINISHED_STATUSES))
        .values(lease_until=now + lease_seconds)
        .returning(c.id)
    )
    return sorted(conn.scalars(statement))


def release(conn: Connection, owner: str, execution_ids: Iterable[str] | None) -> None:
    c = executions.c
    statement = sa.update(executions).where(c.owner == owner).values(owner=None, lease_until=None)
    if execution_ids is None:
        conn.execute(statement)
        return
    for ids in chunked(execution_ids):
        conn.execute(statement.where(c.id.in_(ids)))


def lease_for_retry(
    conn: Connection,
    execution_id: str,
    *,
    seen_owner: str | None,
    owner: str,
    lease_until: float,
) -> bool:
    """A compare-and-set on the owner: the row lock serialises racing retries."""
    c = executions.c
    statement = (
        sa.update(executions)
        .where(
            c.id == execution_id,
            c.status == FAULTED,
            c.owner.is_not_distinct_from(seen_owner),
        )
        .values(owner=owner, lease_until=lease_until)
    )
    return conn.execute(statement).rowcount == 1


def _held_by(query: sa.Select[Any], table: sa.Table, owner: str | None) -> sa.Select[Any]:
    """Restrict a query on ``table`` to executions ``owner`` holds (None: no restriction)."""
    if owner is None:
        return query
    joined = table.join(executions, executions.c.id == table.c.execution_id)
    return query.select_from(joined).where(executions.c.owner == owner)


def due_timers(
    conn: Connection, *, before: float, owner: str | None, limit: int
) -> list[TimerRecord]:
    t = timers.c
    query = sa.select(t.execution_id, t.effect_id, t.due_at).where(t.due_at <= before)
    query = _held_by(query, timers, owner).order_by(t.due_at, t.execution_id, t.effect_id)
    return [TimerRecord(**row._mapping) for row in conn.execute(query.limit(limit))]


def pending_outbox(conn: Connection, *, limit: int, owner: str | None) -> list[OutboxItem]:
    o = outbox.c
    query = _held_by(sa.select(o.id, o.execution_id, o.payload), outbox, owner)
    return [OutboxItem(**row._mapping) for row in conn.execute(query.order_by(o.id).limit(limit))]


def pending_signals(conn: Connection, *, owner: str | None, limit: int) -> list[SignalRecord]:
    s = signals.c
    query = _held_by(sa.select(s.id, s.execution_id, s.payload, s.created_at), signals, owner)
    rows = conn.execute(query.order_by(s.id).limit(limit))
    return [SignalRecord(**row._mapping) for row in rows]


def discard(conn: Connection, queue: sa.Table, ids: Iterable[int]) -> None:
    """Delete the messages ``ids`` of ``queue`` (the outbox or signals); gone ones are skipped."""
    for chunk in chunked(ids):
        conn.execute(queue.delete().where(queue.c.id.in_(chunk)))
