"""``SqlStore``: the store port over SQLAlchemy Core, for SQLite and PostgreSQL.

This class is the seam: it opens transactions (``base.py``), converts errors
(``errors.py``) and delegates the SQL to small modules: ``writes.py`` (group commit),
``reads.py`` (the API's queries), ``leases.py`` (claiming and per-owner queues),
``migrate.py`` (Alembic). Write transactions are marked so that SQLite takes its write lock up front
(``BEGIN IMMEDIATE``); PostgreSQL runs at READ COMMITTED and locks rows explicitly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.engine import Connection

from flowapp.store.plan import plan_commit
from flowapp.store.port import (
    Checkpoint,
    DuplicateExecution,
    ExecutionFilter,
    ExecutionRecord,
    LeaseClaim,
    OutboxItem,
    Page,
    Purged,
    PurgeFilter,
    SignalRecord,
    SubscriptionRecord,
    TaskRunRecord,
    TimerRecord,
    WorkflowRecord,
)
from flowapp.store.sql import leases, purge, reads, rows
from flowapp.store.sql.base import SqlBase
from flowapp.store.sql.chunks import chunked
from flowapp.store.sql.errors import translated
from flowapp.store.sql.raw import RawStatements
from flowapp.store.sql.statements import build_statements
from flowapp.store.sql.tables import executions, outbox, signals
from flowapp.store.sql.writes import apply_plan


class SqlStore(SqlBase):
    """A ``Store`` on SQLite (``sqlite:///path``) or PostgreSQL (``postgresql://...``)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._statements = build_statements(self._engine.dialect.name)
        self._raw = RawStatements(self._engine.dialect)
        # An embedded SQLite file commits in well under a millisecond: callers may write
        # on their event loop's thread instead of paying two thread hops per commit.
        self.writes_inline = self._engine.dialect.name == "sqlite"
        # The commit path runs on the driver's cursor (``raw.py``), whose constraint
        # errors are the driver's own, not SQLAlchemy's ``IntegrityError``.
        driver = getattr(self._engine.dialect.dbapi, "IntegrityError", exc.IntegrityError)
        self._integrity_errors = (exc.IntegrityError, driver)

    # --- workflows ----------------------------------------------------------------
    @translated
    def save_workflow(self, record: WorkflowRecord) -> None:
        with self._write() as conn:
            conn.execute(self._statements.insert_workflow, rows.workflow_row(record))

    @translated
    def get_workflow(self, workflow_id: str) -> WorkflowRecord | None:
        with self._read() as conn:
            return reads.get_workflow(conn, workflow_id)

    # --- executions ---------------------------------------------------------------
    @translated
    def create_execution(self, record: ExecutionRecord, checkpoint: Checkpoint) -> None:
        plan = plan_commit([checkpoint])
        try:
            with self._write() as conn:
                conn.execute(self._statements.insert_execution, rows.execution_row(record))
                apply_plan(conn, plan, self._statements, self._raw)
        except exc.IntegrityError as error:
            # The transaction is rolled back; look for the row that won, outside it.
            existing = self.find_by_dedupe_key(record.dedupe_key) if record.dedupe_key else None
            if existing is not None:
                raise DuplicateExecution(existing.id) from error
            raise

    @translated
    def create_executions(
        self, pairs: Sequence[tuple[ExecutionRecord, Checkpoint]]
    ) -> list[str | None]:
        try:
            with self._write() as conn:
                results, fresh = self._split_duplicates(conn, pairs)
                if fresh:
                    rows_ = [rows.execution_row(record) for record, _ in fresh]
                    self._raw.execute_many(conn, self._statements.insert_execution, rows_)
                    apply_plan(
                        conn, plan_commit([cp for _, cp in fresh]), self._statements, self._raw
                    )
                return results
        except self._integrity_errors:
            # Another process took one of the dedupe keys meanwhile: one by one, then.
            return [self._create_or_existing(record, cp) for record, cp in pairs]

    @translated
    def create_and_commit(
        self,
        pairs: Sequence[tuple[ExecutionRecord, Checkpoint]],
        checkpoints: Sequence[Checkpoint],
    ) -> list[str | None]:
        """``create_executions(pairs)`` then ``commit(checkpoints)`` (of other executions)
        in one transaction, with one commit: all or nothing. A dedupe key taken by another
        process meanwhile fails it (``StoreError``); the caller then writes them apart."""
        with self._write() as conn:
            results, fresh = self._split_duplicates(conn, pairs)
            if fresh:
                rows_ = [rows.execution_row(record) for record, _ in fresh]
                self._raw.execute_many(conn, self._statements.insert_execution, rows_)
                apply_plan(conn, plan_commit([cp for _, cp in fresh]), self._statements, self._raw)
            apply_plan(conn, plan_commit(checkpoints), self._statements, self._raw)
            return results

    def _split_duplicates(
        self, conn: Connection, pairs: Sequence[tuple[ExecutionRecord, Checkpoint]]
    ) -> tuple[list[str | None], list[tuple[ExecutionRecord, Checkpoint]]]:
        keys = [record.dedupe_key for record, _ in pairs if record.dedupe_key]
        taken: dict[str, str] = {}
        for chunk in chunked(keys):
            query = sa.select(executions.c.dedupe_key, executions.c.id).where(
                executions.c.dedupe_key.in_(chunk)
            )
            taken.update({row.dedupe_key: row.id for row in conn.execute(query)})
        results: list[str | None] = []
        fresh = []
        for record, checkpoint in pairs:
            existing = taken.get(record.dedupe_key) if record.dedupe_key else None
            results.append(existing)
            if existing is None:
                fresh.append((record, checkpoint))
                if record.dedupe_key:
                    taken[record.dedupe_key] = record.id
        return results, fresh

    def _create_or_existing(self, record: ExecutionRecord, checkpoint: Checkpoint) -> str | None:
        try:
            self.create_execution(record, checkpoint)
            return None
        except DuplicateExecution as duplicate:
            return duplicate.existing_id

    @translated
    def commit(self, checkpoints: Sequence[Checkpoint]) -> None:
        plan = plan_commit(checkpoints)
        if not plan.patches:
            return
        with self._write() as conn:
            apply_plan(conn, plan, self._statements, self._raw)

    @translated
    def get_execution(self, execution_id: str) -> ExecutionRecord | None:
        with self._read() as conn:
            return reads.get_execution(conn, executions.c.id == execution_id)

    @translated
    def find_by_dedupe_key(self, dedupe_key: str) -> ExecutionRecord | None:
        with self._read() as conn:
            return reads.get_execution(conn, executions.c.dedupe_key == dedupe_key)

    @translated
    def list_executions(
        self, where: ExecutionFilter, *, limit: int = 50, cursor: str | None = None
    ) -> Page:
        with self._read() as conn:
            return reads.list_executions(conn, where, limit=limit, cursor=cursor)

    @translated
    def load_state(self, execution_id: str) -> dict[str, Any] | None:
        with self._read() as conn:
            return reads.load_state(conn, execution_id)

    @translated
    def load_executions(
        self, execution_ids: Sequence[str]
    ) -> list[tuple[ExecutionRecord, dict[str, Any] | None]]:
        found: list[tuple[ExecutionRecord, dict[str, Any] | None]] = []
        with self._read() as conn:
            for chunk in chunked(execution_ids):
                found.extend(reads.load_executions(conn, chunk))
        return found

    @translated
    def task_runs(
        self, execution_id: str, *, after: int = 0, limit: int | None = None
    ) -> list[TaskRunRecord]:
        with self._read() as conn:
            return reads.list_task_runs(conn, execution_id, after=after, limit=limit)

    @translated
    def task_runs_by_id(self, execution_id: str, ids: Sequence[int]) -> list[TaskRunRecord]:
        found: list[TaskRunRecord] = []
        with self._read() as conn:
            for chunk in chunked(sorted(set(ids))):
                found.extend(reads.task_runs_by_id(conn, execution_id, chunk))
        return found

    @translated
    def count_task_runs(self, execution_id: str) -> int:
        with self._read() as conn:
            return reads.count_task_runs(conn, execution_id)

    @translated
    def count_executions(self, where: ExecutionFilter) -> int:
        with self._read() as conn:
            return reads.count_executions(conn, where)

    # --- retention ----------------------------------------------------------------
    @translated
    def count_purgeable(self, where: PurgeFilter) -> Purged:
        with self._read() as conn:
            return purge.count_purgeable(conn, where)

    @translated
    def purge_batch(self, where: PurgeFilter, *, limit: int) -> Purged:
        with self._write() as conn:
            return purge.purge_batch(conn, where, limit=limit)

    # --- recovery and scale-out ---------------------------------------------------
    @translated
    def claim_executions(self, claim: LeaseClaim, *, now: float) -> list[str]:
        with self._write() as conn:
            return leases.claim(conn, claim, now=now)

    @translated
    def renew_leases(self, owner: str, *, now: float, lease_seconds: float) -> list[str]:
        with self._write() as conn:
            return leases.renew(conn, owner, now=now, lease_seconds=lease_seconds)

    @translated
    def release_leases(self, owner: str, execution_ids: Iterable[str] | None = None) -> None:
        with self._write() as conn:
            leases.release(conn, owner, execution_ids)

    @translated
    def lease_for_retry(
        self, execution_id: str, *, seen_owner: str | None, owner: str, lease_until: float
    ) -> bool:
        with self._write() as conn:
            return leases.lease_for_retry(
                conn, execution_id, seen_owner=seen_owner, owner=owner, lease_until=lease_until
            )

    @translated
    def due_timers(self, *, before: float, owner: str | None, limit: int) -> list[TimerRecord]:
        with self._read() as conn:
            return leases.due_timers(conn, before=before, owner=owner, limit=limit)

    @translated
    def subscriptions_matching(self, attributes: dict[str, Any]) -> list[SubscriptionRecord]:
        with self._read() as conn:
            return reads.subscriptions_matching(conn, attributes)

    @translated
    def pending_outbox(self, *, limit: int, owner: str | None = None) -> list[OutboxItem]:
        with self._read() as conn:
            return leases.pending_outbox(conn, limit=limit, owner=owner)

    @translated
    def outbox_done(self, ids: Iterable[int]) -> None:
        with self._write() as conn:
            leases.discard(conn, outbox, ids)

    @translated
    def send_signal(self, execution_id: str, payload: dict[str, Any], *, now: float) -> int:
        row = {"execution_id": execution_id, "payload": payload, "created_at": now}
        with self._write() as conn:
            # A foreign key rejects signals to unknown executions (a StoreError).
            inserted = conn.execute(signals.insert().values(row).returning(signals.c.id))
            return int(inserted.scalar_one())

    @translated
    def pending_signals(self, *, owner: str | None, limit: int) -> list[SignalRecord]:
        with self._read() as conn:
            return leases.pending_signals(conn, owner=owner, limit=limit)

    @translated
    def discard_signals(self, ids: Iterable[int]) -> None:
        with self._write() as conn:
            leases.discard(conn, signals, ids)
