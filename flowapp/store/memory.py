"""``MemoryStore``: the in-memory fake of the store port (``memory://``).

It keeps plain dicts behind one lock and applies the same rules as the SQL adapter
(``plan.py`` for commits, ``rules.py`` for cursors, statuses and matching), so a test
that passes here passes on SQLite and PostgreSQL; ``tests/integration/store`` runs one
body of tests against all three to keep it so. Values are copied through JSON on the
way in and out, as a database would, so callers never share mutable state with it.
Queries are linear scans: it is meant for tests and demos, not for large data.
Part of the public testing kit (with ``MemoryPlatformStore``): the API's tests run the real
platform over it (``tests/platforms.py``, ``docs/api.md``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from flowapp.engine.state import FAULTED
from flowapp.store.memory_tables import (
    MemoryTables,
    Prepared,
    copy_execution,
    copy_task_run,
    discard,
)
from flowapp.store.plan import CommitPlan, check_leases, plan_commit
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
    StoreError,
    SubscriptionRecord,
    TaskRunRecord,
    TimerRecord,
    WorkflowRecord,
)
from flowapp.store.rules import (
    UNFINISHED_STATUSES,
    decode_cursor,
    encode_cursor,
    json_copy,
    may_match,
)


class MemoryStore:
    """Thread-safe in-memory ``Store``: every method runs under one lock."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.writes_inline = True
        self._tables = MemoryTables()

    def migrate(self) -> None:
        """Nothing to create: the tables are dicts."""

    def close(self) -> None:
        """Nothing to release; the data stays readable, as after reopening a database."""

    # --- workflows ----------------------------------------------------------------
    def save_workflow(self, record: WorkflowRecord) -> None:
        with self._lock:
            if record.id not in self._tables.workflows:
                document = json_copy(record.document)
                stored = replace(record, document=document, functions=tuple(record.functions))
                self._tables.workflows[record.id] = stored

    def get_workflow(self, workflow_id: str) -> WorkflowRecord | None:
        with self._lock:
            return self._tables.workflow(workflow_id)

    # --- executions ---------------------------------------------------------------
    def create_execution(self, record: ExecutionRecord, checkpoint: Checkpoint) -> None:
        plan = plan_commit([checkpoint])
        new = copy_execution(record)
        with self._lock:
            existing = self._insert(new, plan, self._tables.prepare(plan))
        if existing is not None:
            raise DuplicateExecution(existing)

    def _insert(self, new: ExecutionRecord, plan: CommitPlan, prepared: Prepared) -> str | None:
        """Insert a new execution (under the lock); the id of the execution that has its
        dedupe key already, if any (then nothing is written)."""
        tables = self._tables
        if new.dedupe_key is not None and new.dedupe_key in tables.dedupe:
            return tables.dedupe[new.dedupe_key]
        if new.id in tables.executions:
            raise StoreError(f"execution {new.id} exists already")
        check_leases(plan, {**tables.owners(plan.patches), new.id: new.owner})
        tables.insert_execution(new)
        tables.write(prepared)
        return None

    def create_executions(
        self, pairs: Sequence[tuple[ExecutionRecord, Checkpoint]]
    ) -> list[str | None]:
        """All or nothing, like the SQL transaction: every value is copied (which may
        fail) before the first execution is written."""
        staged = [(copy_execution(record), plan_commit([cp])) for record, cp in pairs]
        results: list[str | None] = []
        with self._lock:
            prepared = [self._tables.prepare(plan) for _, plan in staged]
            for (new, plan), ready in zip(staged, prepared, strict=True):
                results.append(self._insert(new, plan, ready))
        return results

    def commit(self, checkpoints: Sequence[Checkpoint]) -> None:
        plan = plan_commit(checkpoints)
        with self._lock:
            check_leases(plan, self._tables.owners(plan.patches))
            self._tables.write(self._tables.prepare(plan))

    def get_execution(self, execution_id: str) -> ExecutionRecord | None:
        with self._lock:
            row = self._tables.executions.get(execution_id)
            return None if row is None else copy_execution(row.record)

    def find_by_dedupe_key(self, dedupe_key: str) -> ExecutionRecord | None:
        with self._lock:
            execution_id = self._tables.dedupe.get(dedupe_key)
        return None if execution_id is None else self.get_execution(execution_id)

    def list_executions(
        self, where: ExecutionFilter, *, limit: int = 50, cursor: str | None = None
    ) -> Page:
        with self._lock:
            rows = sorted(self._tables.filtered(where), key=_position, reverse=True)
        if cursor is not None:
            after = decode_cursor(cursor)
            rows = [r for r in rows if _position(r) < after]
        page = [copy_execution(r) for r in rows[:limit]]
        more = len(rows) > limit and bool(page)
        next_cursor = encode_cursor(page[-1].created_at, page[-1].id) if more else None
        return Page(items=page, next_cursor=next_cursor)

    def load_state(self, execution_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._tables.executions.get(execution_id)
            return None if row is None else row.copy_state()

    def load_executions(
        self, execution_ids: Sequence[str]
    ) -> list[tuple[ExecutionRecord, dict[str, Any] | None]]:
        with self._lock:
            rows = [self._tables.executions.get(i) for i in execution_ids]
            return [(copy_execution(r.record), r.copy_state()) for r in rows if r is not None]

    def task_runs(
        self, execution_id: str, *, after: int = 0, limit: int | None = None
    ) -> list[TaskRunRecord]:
        with self._lock:
            runs = self._tables.task_runs.get(execution_id, {})
            keys = [key for key in sorted(runs) if key > after][:limit]
            return [copy_task_run(runs[key]) for key in keys]

    def task_runs_by_id(self, execution_id: str, ids: Sequence[int]) -> list[TaskRunRecord]:
        with self._lock:
            runs = self._tables.task_runs.get(execution_id, {})
            return [copy_task_run(runs[key]) for key in sorted(set(ids)) if key in runs]

    def count_task_runs(self, execution_id: str) -> int:
        with self._lock:
            return len(self._tables.task_runs.get(execution_id, {}))

    def count_executions(self, where: ExecutionFilter) -> int:
        with self._lock:
            return sum(1 for _ in self._tables.filtered(where))

    # --- retention ----------------------------------------------------------------
    def count_purgeable(self, where: PurgeFilter) -> Purged:
        with self._lock:
            found = self._tables.purgeable(where)
            runs = sum(len(self._tables.task_runs.get(r.id, {})) for r in found)
            return Purged(len(found), runs)

    def purge_batch(self, where: PurgeFilter, *, limit: int) -> Purged:
        if limit < 1:
            raise ValueError(f"a purge batch must delete at least 1 row, not {limit}")
        with self._lock:
            ids = [record.id for record in self._tables.purgeable(where)[: max(1, limit // 5)]]
            runs = 0
            for execution_id in ids:
                table = self._tables.task_runs.get(execution_id, {})
                for run_id in sorted(table)[: limit - runs]:
                    del table[run_id]
                    runs += 1
            emptied = [i for i in ids if not self._tables.task_runs.get(i)]
            for execution_id in emptied:
                self._tables.delete_execution(execution_id)
            return Purged(executions=len(emptied), task_runs=runs)

    # --- recovery and scale-out ---------------------------------------------------
    def claim_executions(self, claim: LeaseClaim, *, now: float) -> list[str]:
        own = claim.owner if claim.include_own else None
        with self._lock:
            free = [
                row.record
                for row in self._tables.executions.values()
                if row.record.status in UNFINISHED_STATUSES and _claimable(row.record, own, now)
            ]
            free.sort(key=lambda r: (r.created_at, r.id))
            for record in free[: claim.limit]:
                record.owner, record.lease_until = claim.owner, now + claim.lease_seconds
            return [record.id for record in free[: claim.limit]]

    def renew_leases(self, owner: str, *, now: float, lease_seconds: float) -> list[str]:
        with self._lock:
            held = [
                r.record
                for r in self._tables.executions.values()
                if r.record.owner == owner and r.record.status in UNFINISHED_STATUSES
            ]
            for record in held:
                record.lease_until = now + lease_seconds
            return sorted(record.id for record in held)

    def release_leases(self, owner: str, execution_ids: Iterable[str] | None = None) -> None:
        wanted = None if execution_ids is None else set(execution_ids)
        with self._lock:
            for row in self._tables.executions.values():
                record = row.record
                if record.owner == owner and (wanted is None or record.id in wanted):
                    record.owner, record.lease_until = None, None

    def lease_for_retry(
        self, execution_id: str, *, seen_owner: str | None, owner: str, lease_until: float
    ) -> bool:
        with self._lock:
            row = self._tables.executions.get(execution_id)
            record = None if row is None else row.record
            if record is None or record.status != FAULTED or record.owner != seen_owner:
                return False
            record.owner, record.lease_until = owner, lease_until
            return True

    def due_timers(self, *, before: float, owner: str | None, limit: int) -> list[TimerRecord]:
        with self._lock:
            due = [
                timer
                for timer in self._tables.timers.values()
                if timer.due_at <= before and self._tables.held(timer.execution_id, owner)
            ]
        due.sort(key=lambda t: (t.due_at, t.execution_id, t.effect_id))
        return due[:limit]

    def subscriptions_matching(self, attributes: dict[str, Any]) -> list[SubscriptionRecord]:
        with self._lock:
            subs = list(self._tables.subscriptions.values())
        subs.sort(key=lambda s: (s.execution_id, s.effect_id))
        return [s for s in subs if may_match(s.attributes, attributes)]

    def pending_outbox(self, *, limit: int, owner: str | None = None) -> list[OutboxItem]:
        with self._lock:
            return self._tables.pending(self._tables.outbox, owner, limit)

    def outbox_done(self, ids: Iterable[int]) -> None:
        with self._lock:
            discard(self._tables.outbox, ids)

    def send_signal(self, execution_id: str, payload: dict[str, Any], *, now: float) -> int:
        with self._lock:
            return self._tables.add_signal(execution_id, payload, now)

    def pending_signals(self, *, owner: str | None, limit: int) -> list[SignalRecord]:
        with self._lock:
            return self._tables.pending(self._tables.signals, owner, limit)

    def discard_signals(self, ids: Iterable[int]) -> None:
        with self._lock:
            discard(self._tables.signals, ids)


def _position(record: ExecutionRecord) -> tuple[float, str]:
    return (record.created_at, record.id)


def _claimable(record: ExecutionRecord, owner: str | None, now: float) -> bool:
    return (
        record.owner is None
        or record.owner == owner
        or record.lease_until is None
        or record.lease_until < now
    )
