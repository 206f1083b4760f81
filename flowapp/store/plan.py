"""Fold a batch of checkpoints into one plan of writes, grouped by kind.

``commit`` receives checkpoints in the order their decisions were taken; a batch may hold
several for one execution. The adapters do not replay them one by one: they fold them
here into the *net* effect (last value wins per execution row, task run, timer and
subscription) and then write each kind with one bulk statement. Folding first also keeps
a bulk upsert from touching the same row twice, which PostgreSQL refuses.

Rules (the same for every adapter):
- An execution's ``status``, ``updated_at``, ``output``, ``error`` and ``ended_at`` are
  always written (a checkpoint carries the execution's whole result: a retried execution
  that completes must lose its earlier error); ``state``, ``started_at``, ``workflow_id``
  and ``revision`` only when not None (None keeps the stored value, so a checkpoint can
  leave the snapshot alone).
- Inside one checkpoint, additions apply before removals: an effect both armed and
  dropped by one decision is gone. Across checkpoints, later ones win.
- Leases are checked against the owner stored *before* the batch (``check_leases``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from flowapp.store.port import (
    Checkpoint,
    LeaseLost,
    StoreError,
    SubscriptionRecord,
    TaskRunRecord,
    TimerRecord,
)

EffectKey = tuple[str, str]  # (execution_id, effect_id)


@dataclass(slots=True)
class ExecutionPatch:
    """The net change to one execution row."""

    id: str
    status: str
    updated_at: float
    state: dict[str, Any] | orjson.Fragment | None = None
    started_at: float | None = None
    output: Any = None
    error: dict[str, Any] | None = None
    ended_at: float | None = None
    workflow_id: str | None = None
    revision: str | None = None

    def merge(self, checkpoint: Checkpoint) -> None:
        self.status = checkpoint.status
        self.updated_at = checkpoint.updated_at
        self.output = checkpoint.output
        self.error = checkpoint.error
        self.ended_at = checkpoint.ended_at
        for name in ("state", "started_at", "workflow_id", "revision"):
            value = getattr(checkpoint, name)
            if value is not None:
                setattr(self, name, value)


@dataclass(slots=True)
class OutboxEntry:
    execution_id: str
    payload: dict[str, Any]
    created_at: float


@dataclass(slots=True)
class CommitPlan:
    patches: dict[str, ExecutionPatch] = field(default_factory=dict)
    owners: set[tuple[str, str]] = field(default_factory=set)  # (execution_id, owner)
    task_runs: dict[tuple[str, int], TaskRunRecord] = field(default_factory=dict)
    timers: dict[EffectKey, TimerRecord | None] = field(default_factory=dict)  # None: drop
    subscriptions: dict[EffectKey, SubscriptionRecord | None] = field(default_factory=dict)
    outbox: list[OutboxEntry] = field(default_factory=list)
    signals_consumed: list[int] = field(default_factory=list)

    def timers_kept(self) -> list[TimerRecord]:
        return [timer for timer in self.timers.values() if timer is not None]

    def timers_dropped(self) -> list[EffectKey]:
        return [key for key, timer in self.timers.items() if timer is None]

    def subscriptions_kept(self) -> list[SubscriptionRecord]:
        return [sub for sub in self.subscriptions.values() if sub is not None]

    def subscriptions_dropped(self) -> list[EffectKey]:
        return [key for key, sub in self.subscriptions.items() if sub is None]


def plan_commit(checkpoints: Iterable[Checkpoint]) -> CommitPlan:
    plan = CommitPlan()
    for checkpoint in checkpoints:
        _fold(plan, checkpoint)
    return plan


def _fold(plan: CommitPlan, checkpoint: Checkpoint) -> None:
    execution_id = checkpoint.execution_id
    patch = plan.patches.setdefault(
        execution_id, ExecutionPatch(execution_id, checkpoint.status, checkpoint.updated_at)
    )
    patch.merge(checkpoint)
    if checkpoint.owner is not None:
        plan.owners.add((execution_id, checkpoint.owner))
    for run in checkpoint.task_runs:
        plan.task_runs[(_same(execution_id, run), run.id)] = run
    for timer in checkpoint.timers_added:
        plan.timers[(_same(execution_id, timer), timer.effect_id)] = timer
    for effect_id in checkpoint.timers_removed:
        plan.timers[(execution_id, effect_id)] = None
    for sub in checkpoint.subscriptions_added:
        plan.subscriptions[(_same(execution_id, sub), sub.effect_id)] = sub
    for effect_id in checkpoint.subscriptions_removed:
        plan.subscriptions[(execution_id, effect_id)] = None
    plan.outbox.extend(
        OutboxEntry(execution_id, payload, checkpoint.updated_at) for payload in checkpoint.outbox
    )
    plan.signals_consumed.extend(checkpoint.signals_consumed)


def _same(execution_id: str, record: TaskRunRecord | TimerRecord | SubscriptionRecord) -> str:
    """A checkpoint may only touch its own execution; anything else is a runtime bug."""
    if record.execution_id != execution_id:
        raise StoreError(
            f"checkpoint of {execution_id} carries a {type(record).__name__} "
            f"of {record.execution_id}"
        )
    return execution_id


def check_leases(plan: CommitPlan, stored_owners: Mapping[str, str | None]) -> None:
    """Raise unless every execution exists and every named owner holds its lease.

    ``stored_owners`` maps each execution id of the plan that exists to its current
    owner. A lease is held until another process takes it: expiry only makes it
    claimable, so an owner whose lease ran out but was not taken may still commit.
    """
    lost = sorted({eid for eid, owner in plan.owners if _holder(stored_owners, eid) != owner})
    missing = sorted(eid for eid in plan.patches if eid not in stored_owners)
    if lost:
        raise LeaseLost(lost)
    if missing:
        raise StoreError(f"unknown execution(s): {', '.join(_few(missing))}")


def _holder(stored_owners: Mapping[str, str | None], execution_id: str) -> str | None:
    # A missing execution has no holder, so a checkpoint naming an owner lost it.
    return stored_owners.get(execution_id)


def _few(ids: Sequence[str], shown: int = 5) -> list[str]:
    return [*ids[:shown], "..."] if len(ids) > shown else list(ids)
