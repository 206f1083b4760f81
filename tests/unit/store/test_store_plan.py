"""Folding checkpoints into one plan of writes (``flowapp.store.plan``)."""

from __future__ import annotations

import pytest

from flowapp.store import (
    Checkpoint,
    LeaseLost,
    StoreError,
    SubscriptionRecord,
    TaskRunRecord,
    TimerRecord,
)
from flowapp.store.plan import check_leases, plan_commit


def checkpoint(execution_id: str = "e1", **changes: object) -> Checkpoint:
    values: dict[str, object] = {"status": "running", "state": {"n": 1}, "updated_at": 1.0}
    return Checkpoint(execution_id=execution_id, **(values | changes))  # type: ignore[arg-type]


def run(run_id: int, status: str, execution_id: str = "e1") -> TaskRunRecord:
    return TaskRunRecord(
        execution_id=execution_id,
        id=run_id,
        parent_id=None,
        reference="/do/0",
        occurrence="/do/0",
        name="a",
        status=status,
        input=None,
        attempt=1,
        started_at=0.0,
    )


def test_later_checkpoints_win_none_keeps_state_but_clears_results() -> None:
    plan = plan_commit(
        [
            checkpoint(status="faulted", started_at=5.0, error={"status": 500}, ended_at=6.0),
            checkpoint(status="completed", state=None, output="done", ended_at=9.0, updated_at=2.0),
        ]
    )
    patch = plan.patches["e1"]
    assert (patch.status, patch.updated_at, patch.state) == ("completed", 2.0, {"n": 1})
    # a retried execution that completes loses its earlier error
    assert (patch.started_at, patch.output, patch.error, patch.ended_at) == (5.0, "done", None, 9.0)


def test_task_runs_fold_to_their_last_version() -> None:
    plan = plan_commit(
        [
            checkpoint(task_runs=[run(1, "running"), run(2, "running")]),
            checkpoint(task_runs=[run(1, "completed")]),
        ]
    )
    assert [(r.id, r.status) for r in plan.task_runs.values()] == [(1, "completed"), (2, "running")]


def test_an_effect_added_and_removed_in_one_checkpoint_is_gone() -> None:
    timer = TimerRecord("e1", "t1", 5.0)
    sub = SubscriptionRecord("e1", "s1", [])
    plan = plan_commit(
        [
            checkpoint(timers_added=[timer], timers_removed=["t1"]),
            checkpoint(subscriptions_removed=["s1"]),
            checkpoint(subscriptions_added=[sub]),
        ]
    )
    assert plan.timers_kept() == [] and plan.timers_dropped() == [("e1", "t1")]
    assert plan.subscriptions_kept() == [sub] and plan.subscriptions_dropped() == []


def test_outbox_and_signals_keep_decision_order() -> None:
    plan = plan_commit(
        [
            checkpoint("e1", outbox=[{"n": 1}], signals_consumed=[4]),
            checkpoint("e2", outbox=[{"n": 2}, {"n": 3}], updated_at=7.0, signals_consumed=[2]),
        ]
    )
    assert [(e.execution_id, e.payload["n"], e.created_at) for e in plan.outbox] == [
        ("e1", 1, 1.0),
        ("e2", 2, 7.0),
        ("e2", 3, 7.0),
    ]
    assert plan.signals_consumed == [4, 2]


def test_a_record_of_another_execution_is_refused() -> None:
    with pytest.raises(StoreError, match="carries a TaskRunRecord of e2"):
        plan_commit([checkpoint("e1", task_runs=[run(1, "running", execution_id="e2")])])


def test_check_leases() -> None:
    plan = plan_commit(
        [checkpoint("e1", owner="p1"), checkpoint("e2", owner="p1"), checkpoint("e3")]
    )
    check_leases(plan, {"e1": "p1", "e2": "p1", "e3": "p9"})  # e3 names no owner
    with pytest.raises(LeaseLost) as caught:
        check_leases(plan, {"e1": "p1", "e2": "p2", "e3": None})
    assert caught.value.execution_ids == ["e2"]
    with pytest.raises(LeaseLost) as caught:
        check_leases(plan, {"e2": "p1", "e3": None})  # e1 is missing: not held either
    assert caught.value.execution_ids == ["e1"]
    with pytest.raises(StoreError, match="unknown execution"):
        check_leases(plan, {"e1": "p1", "e2": "p1"})
