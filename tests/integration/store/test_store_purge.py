"""Retention: purging old finished executions in batches, one body for every adapter."""

from __future__ import annotations

from typing import Any

import pytest

from flowapp.store import Purged, PurgeFilter, Store, SubscriptionRecord, TimerRecord

from .store_factories import T0, checkpoint, create, task_run

DAY = 86_400.0
CUTOFF = T0 + 30 * DAY


def finished(
    store: Store, execution_id: str, *, ended_at: float, runs: int = 0, **changes: Any
) -> None:
    """An execution that ran ``runs`` task runs and ended at ``ended_at``."""
    status = changes.pop("status", "completed")
    create(store, execution_id, **changes)
    done = [task_run(execution_id, n, status="completed") for n in range(1, runs + 1)]
    store.commit([checkpoint(execution_id, status=status, ended_at=ended_at, task_runs=done)])


def running(store: Store, execution_id: str, *, runs: int = 0, **changes: Any) -> None:
    create(store, execution_id, **changes)
    started = [task_run(execution_id, n) for n in range(1, runs + 1)]
    store.commit(
        [
            checkpoint(
                execution_id,
                task_runs=started,
                timers_added=[TimerRecord(execution_id, "t1", T0 + 99 * DAY)],
                subscriptions_added=[SubscriptionRecord(execution_id, "s1", [])],
            )
        ]
    )


def purge_all(store: Store, where: PurgeFilter, *, limit: int) -> tuple[Purged, int]:
    """Purge to the end, batch after batch: what went, and in how many batches."""
    total, batches = Purged(), 0
    while not (batch := store.purge_batch(where, limit=limit)).nothing:
        assert batch.task_runs <= limit and batch.executions <= limit
        total, batches = total + batch, batches + 1
    return total, batches


def ids(store: Store) -> set[str]:
    from flowapp.store import ExecutionFilter

    return {record.id for record in store.list_executions(ExecutionFilter(), limit=1000).items}


def test_purge_deletes_only_finished_executions_older_than_the_cutoff(store: Store) -> None:
    finished(store, "old-done", ended_at=T0 + DAY, runs=7)
    finished(store, "old-faulted", ended_at=T0 + 2 * DAY, runs=2, status="faulted")
    finished(store, "old-cancelled", ended_at=T0 + 3 * DAY, status="cancelled")
    finished(store, "recent", ended_at=CUTOFF + 1, runs=3)
    running(store, "old-running", runs=4, created_at=T0)

    assert store.count_purgeable(PurgeFilter(ended_before=CUTOFF)) == Purged(3, 9)
    total, batches = purge_all(store, PurgeFilter(ended_before=CUTOFF), limit=2)

    assert total == Purged(3, 9)
    assert batches >= 9 // 2  # never more than two task runs per transaction
    assert ids(store) == {"recent", "old-running"}
    for gone in ("old-done", "old-faulted", "old-cancelled"):
        assert store.get_execution(gone) is None
        assert store.task_runs(gone) == []
    assert len(store.task_runs("recent")) == 3
    # The running one keeps everything that hangs off it.
    assert [run.id for run in store.task_runs("old-running")] == [1, 2, 3, 4]
    assert [t.effect_id for t in store.due_timers(before=T0 + 100 * DAY, owner=None, limit=9)] == [
        "t1"
    ]
    assert [s.effect_id for s in store.subscriptions_matching({"type": "x"})] == ["s1"]
    assert store.count_purgeable(PurgeFilter(ended_before=CUTOFF)) == Purged()


def test_counting_deletes_nothing(store: Store) -> None:
    finished(store, "old", ended_at=T0, runs=5)
    assert store.count_purgeable(PurgeFilter(ended_before=CUTOFF)) == Purged(1, 5)
    assert store.count_purgeable(PurgeFilter(ended_before=CUTOFF)) == Purged(1, 5)
    assert store.get_execution("old") is not None and len(store.task_runs("old")) == 5


def test_an_execution_of_many_task_runs_goes_over_several_batches(store: Store) -> None:
    finished(store, "big", ended_at=T0, runs=25)
    first = store.purge_batch(PurgeFilter(ended_before=CUTOFF), limit=10)
    assert first == Purged(executions=0, task_runs=10)
    # Between batches it is still there, finished, with the task runs left.
    assert store.get_execution("big") is not None
    assert [run.id for run in store.task_runs("big")] == list(range(11, 26))
    total, _ = purge_all(store, PurgeFilter(ended_before=CUTOFF), limit=10)
    assert total == Purged(executions=1, task_runs=15)
    assert store.get_execution("big") is None


def test_purge_by_app_and_except_apps(store: Store) -> None:
    finished(store, "shop-1", ended_at=T0, runs=1, app="shop")
    finished(store, "bank-1", ended_at=T0, runs=1, app="bank")
    finished(store, "none-1", ended_at=T0, runs=1, app=None)
    only_shop = PurgeFilter(ended_before=CUTOFF, app="shop")
    assert purge_all(store, only_shop, limit=100)[0] == Purged(1, 1)
    assert ids(store) == {"bank-1", "none-1"}
    others = PurgeFilter(ended_before=CUTOFF, except_apps=("bank",))
    assert purge_all(store, others, limit=100)[0] == Purged(1, 1)
    assert ids(store) == {"bank-1"}


def test_purge_keeps_a_child_whose_parent_runs_and_one_with_commands_to_send(
    store: Store,
) -> None:
    running(store, "parent")
    finished(store, "child", ended_at=T0, runs=2, parent_id="parent")
    create(store, "emitter")
    store.commit(
        [checkpoint("emitter", status="completed", ended_at=T0, outbox=[{"emit": {"type": "x"}}])]
    )
    finished(store, "orphan", ended_at=T0, parent_id="gone-long-ago")

    assert purge_all(store, PurgeFilter(ended_before=CUTOFF), limit=100)[0] == Purged(1, 0)
    assert ids(store) == {"parent", "child", "emitter"}

    store.outbox_done([item.id for item in store.pending_outbox(limit=10)])
    store.commit([checkpoint("parent", status="completed", ended_at=CUTOFF + 1)])
    assert purge_all(store, PurgeFilter(ended_before=CUTOFF), limit=100)[0] == Purged(2, 2)
    assert ids(store) == {"parent"}


def test_a_purged_execution_takes_its_signals_and_dedupe_key(store: Store) -> None:
    finished(store, "old", ended_at=T0, dedupe_key="order-7")
    store.send_signal("old", {"cancel": {}}, now=T0)
    purge_all(store, PurgeFilter(ended_before=CUTOFF), limit=10)
    assert store.pending_signals(owner=None, limit=10) == []
    assert store.find_by_dedupe_key("order-7") is None
    create(store, "again", dedupe_key="order-7")  # the key is free again
    assert store.find_by_dedupe_key("order-7") is not None


def test_a_batch_limit_below_one_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        store.purge_batch(PurgeFilter(ended_before=CUTOFF), limit=0)
