"""The dicts behind ``MemoryStore`` and how a commit plan is applied to them.

Applying is done in two steps so that a commit is all-or-nothing without copying the
tables: first every value of the plan is copied through JSON (the only step that can
fail, on a value that is not JSON), then the copies are written, which cannot fail.
Callers hold the store's lock around both.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar, cast

from flowapp.store.plan import CommitPlan, EffectKey, ExecutionPatch
from flowapp.store.port import (
    ExecutionFilter,
    ExecutionRecord,
    OutboxItem,
    PurgeFilter,
    SignalRecord,
    StoreError,
    SubscriptionRecord,
    TaskRunRecord,
    TimerRecord,
    WorkflowRecord,
)
from flowapp.store.rules import FINAL_STATUSES, UNFINISHED_STATUSES, input_holds, json_copy

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


# A message of the outbox or the signals: numbered, for one execution.
Q = TypeVar("Q", OutboxItem, SignalRecord)
D = TypeVar("D", bound="DataclassInstance")


def discard(queue: dict[int, Any], ids: Iterable[int]) -> None:
    """Remove the messages ``ids`` from ``queue``; gone ones are skipped."""
    for item_id in ids:
        queue.pop(item_id, None)


@dataclass(slots=True)
class ExecutionRow:
    record: ExecutionRecord
    state: dict[str, Any] | None = None

    def copy_state(self) -> dict[str, Any] | None:
        return json_copy(self.state)


def _json_copied(record: D, *fields: str) -> D:
    """``record`` with its JSON ``fields`` copied; its other fields are immutable values."""
    return replace(record, **{name: json_copy(getattr(record, name)) for name in fields})


def copy_execution(record: ExecutionRecord) -> ExecutionRecord:
    return _json_copied(record, "input", "output", "error")


def copy_task_run(run: TaskRunRecord) -> TaskRunRecord:
    return _json_copied(run, "input", "output", "error")


def _copy_subscription(sub: SubscriptionRecord) -> SubscriptionRecord:
    return _json_copied(sub, "attributes")


def _copy_patch(patch: ExecutionPatch) -> ExecutionPatch:
    return _json_copied(patch, "state", "output", "error")


@dataclass(slots=True)
class Prepared:
    plan: CommitPlan
    patches: list[ExecutionPatch]
    runs: list[TaskRunRecord]
    subs: list[SubscriptionRecord]
    outbox: list[tuple[str, dict[str, Any]]]


class MemoryTables:
    def __init__(self) -> None:
        self.workflows: dict[str, WorkflowRecord] = {}
        self.executions: dict[str, ExecutionRow] = {}
        self.dedupe: dict[str, str] = {}  # dedupe key -> execution id
        self.task_runs: dict[str, dict[int, TaskRunRecord]] = {}
        self.timers: dict[EffectKey, TimerRecord] = {}
        self.subscriptions: dict[EffectKey, SubscriptionRecord] = {}
        self.outbox: dict[int, OutboxItem] = {}
        self.signals: dict[int, SignalRecord] = {}
        # Ids are never reused, like PostgreSQL sequences and SQLite AUTOINCREMENT.
        self._outbox_ids = itertools.count(1)
        self._signal_ids = itertools.count(1)

    def workflow(self, workflow_id: str) -> WorkflowRecord | None:
        record = self.workflows.get(workflow_id)
        return None if record is None else replace(record, document=json_copy(record.document))

    def owners(self, execution_ids: Iterable[str]) -> dict[str, str | None]:
        """The current owner of each of these executions that exists."""
        rows = self.executions
        return {eid: rows[eid].record.owner for eid in execution_ids if eid in rows}

    def held(self, execution_id: str, owner: str | None) -> bool:
        if owner is None:
            return True
        row = self.executions.get(execution_id)
        return row is not None and row.record.owner == owner

    def pending(self, queue: Mapping[int, Q], owner: str | None, limit: int) -> list[Q]:
        """The first ``limit`` messages of ``queue`` (the outbox or signals), in the order
        written, of the executions ``owner`` holds (None: of any)."""
        items = [item for item in queue.values() if self.held(item.execution_id, owner)]
        return sorted(items, key=lambda item: item.id)[:limit]

    def filtered(self, where: ExecutionFilter) -> Iterator[ExecutionRecord]:
        for row in self.executions.values():
            if _matches(row.record, where):
                yield row.record

    def purgeable(self, where: PurgeFilter) -> list[ExecutionRecord]:
        """What ``where`` lets go (as ``flowapp.store.sql.purge`` selects), oldest first."""
        in_outbox = {item.execution_id for item in self.outbox.values()}
        found = [
            row.record
            for row in self.executions.values()
            if row.record.id not in in_outbox
            and _may_purge(row.record, where)
            and not self._parent_unfinished(row.record)
        ]
        return sorted(found, key=lambda record: record.ended_at or 0.0)

    def _parent_unfinished(self, record: ExecutionRecord) -> bool:
        parent = self.executions.get(record.parent_id) if record.parent_id else None
        return parent is not None and parent.record.status in UNFINISHED_STATUSES

    def delete_execution(self, execution_id: str) -> None:
        """Delete an execution with everything that hangs off it (the SQL cascade)."""
        row = self.executions.pop(execution_id)
        key = row.record.dedupe_key
        if key is not None and self.dedupe.get(key) == execution_id:
            del self.dedupe[key]
        self.task_runs.pop(execution_id, None)
        for effects in (self.timers, self.subscriptions):
            for effect_key in [k for k in effects if k[0] == execution_id]:
                del effects[effect_key]
        for queue in (self.outbox, self.signals):
            for item_id in [i for i, item in queue.items() if item.execution_id == execution_id]:
                del queue[item_id]

    def insert_execution(self, record: ExecutionRecord) -> None:
        """Insert a record the caller copied already."""
        self.executions[record.id] = ExecutionRow(record)
        if record.dedupe_key is not None:
            self.dedupe[record.dedupe_key] = record.id

    def add_signal(self, execution_id: str, payload: dict[str, Any], now: float) -> int:
        if execution_id not in self.executions:
            raise StoreError(f"unknown execution: {execution_id}")
        signal_id = next(self._signal_ids)
        self.signals[signal_id] = SignalRecord(signal_id, execution_id, json_copy(payload), now)
        return signal_id

    def prepare(self, plan: CommitPlan) -> Prepared:
        """Copy every value of the plan (this may fail; nothing is written yet)."""
        return Prepared(
            plan=plan,
            patches=[_copy_patch(patch) for patch in plan.patches.values()],
            runs=[copy_task_run(run) for run in plan.task_runs.values()],
            subs=[_copy_subscription(sub) for sub in plan.subscriptions_kept()],
            outbox=[(e.execution_id, json_copy(e.payload)) for e in plan.outbox],
        )

    def write(self, prepared: Prepared) -> None:
        """Write a prepared plan whose leases were checked; this cannot fail."""
        for patch in prepared.patches:
            self._patch(patch)
        for run in prepared.runs:
            self.task_runs.setdefault(run.execution_id, {})[run.id] = run
        self._apply_effects(prepared.plan, prepared.subs)
        for execution_id, payload in prepared.outbox:
            item_id = next(self._outbox_ids)
            self.outbox[item_id] = OutboxItem(item_id, execution_id, payload)
        for signal_id in prepared.plan.signals_consumed:
            self.signals.pop(signal_id, None)

    def _patch(self, patch: ExecutionPatch) -> None:
        row = self.executions[patch.id]
        record = row.record
        record.status, record.updated_at = patch.status, patch.updated_at
        record.output, record.error, record.ended_at = patch.output, patch.error, patch.ended_at
        if patch.state is not None:  # a copy through JSON (``_copy_patch``): a mapping
            row.state = cast(dict[str, Any], patch.state)
        if patch.started_at is not None:
            record.started_at = patch.started_at
        if patch.workflow_id is not None:
            record.workflow_id = patch.workflow_id
        if patch.revision is not None:
            record.revision = patch.revision

    def _apply_effects(self, plan: CommitPlan, subs: list[SubscriptionRecord]) -> None:
        for key in plan.timers_dropped():
            self.timers.pop(key, None)
        for timer in plan.timers_kept():
            self.timers[(timer.execution_id, timer.effect_id)] = timer
        for key in plan.subscriptions_dropped():
            self.subscriptions.pop(key, None)
        for sub in subs:
            self.subscriptions[(sub.execution_id, sub.effect_id)] = sub


def _may_purge(record: ExecutionRecord, where: PurgeFilter) -> bool:
    return (
        record.status in FINAL_STATUSES
        and record.ended_at is not None
        and record.ended_at < where.ended_before
        and (where.app is None or record.app == where.app)
        and (record.app is None or record.app not in where.except_apps)
    )


def _matches(record: ExecutionRecord, where: ExecutionFilter) -> bool:
    return (
        (where.app is None or record.app == where.app)
        and (where.workflow_id is None or record.workflow_id == where.workflow_id)
        and (where.status is None or record.status == where.status)
        and (where.started_after is None or record.created_at >= where.started_after)
        and (where.started_before is None or record.created_at < where.started_before)
        and (where.id_prefix is None or record.id.startswith(where.id_prefix))
        and (where.parent_id is None or record.parent_id == where.parent_id)
        and (where.input_contains is None or input_holds(record.input, where.input_contains))
    )
