"""Workflows, execution creation and group commit: one body for every store adapter."""

from __future__ import annotations

import orjson
import pytest

from flowapp.store import (
    DuplicateExecution,
    LeaseLost,
    OutboxItem,
    Store,
    StoreError,
    SubscriptionRecord,
    TimerRecord,
    codec,
)

from .store_factories import T0, checkpoint, create, execution, task_run, workflow


def test_migrate_twice_is_a_no_op(store: Store) -> None:
    create(store, "e1")
    store.migrate()
    store.migrate()
    assert store.get_execution("e1") is not None


def test_workflows_are_saved_once_and_read_back(store: Store) -> None:
    record = workflow()
    store.save_workflow(record)
    store.save_workflow(workflow(name="changed"))  # same id: the first one stays
    assert store.get_workflow(record.id) == record
    assert store.get_workflow("missing") is None


def test_create_execution_applies_its_first_checkpoint(store: Store) -> None:
    record = execution("e1", dedupe_key="k1", owner="p1", lease_until=T0 + 30)
    first = checkpoint("e1", started_at=T0, task_runs=[task_run("e1", 1)], owner="p1")
    store.create_execution(record, first)
    stored = store.get_execution("e1")
    assert stored is not None
    assert (stored.status, stored.started_at, stored.updated_at) == ("running", T0, T0 + 1)
    assert (stored.input, stored.dedupe_key, stored.owner) == ({"name": "world"}, "k1", "p1")
    assert store.load_state("e1") == first.state
    assert [run.id for run in store.task_runs("e1")] == [1]
    assert store.find_by_dedupe_key("k1") == stored
    assert store.find_by_dedupe_key("k2") is None
    assert store.load_state("missing") is None


def test_a_taken_dedupe_key_names_the_existing_execution(store: Store) -> None:
    create(store, "e1", dedupe_key="order-42")
    with pytest.raises(DuplicateExecution) as caught:
        create(store, "e2", dedupe_key="order-42")
    assert caught.value.existing_id == "e1"
    assert store.get_execution("e2") is None
    create(store, "e3")  # executions without a key never collide
    create(store, "e4")


def test_a_taken_id_is_a_store_error(store: Store) -> None:
    create(store, "e1")
    with pytest.raises(StoreError):
        create(store, "e1")


def test_commit_writes_the_execution_row(store: Store) -> None:
    create(store, "e1")
    store.commit([checkpoint("e1", status="waiting", state={"at": 1}, started_at=T0)])
    store.commit(
        [checkpoint("e1", status="faulted", state=None, error={"type": "x"}, ended_at=T0 + 9)]
    )
    stored = store.get_execution("e1")
    assert stored is not None
    assert (stored.status, stored.error, stored.ended_at) == ("faulted", {"type": "x"}, T0 + 9)
    assert stored.started_at == T0  # None in a later checkpoint keeps the stored value
    assert store.load_state("e1") == {"at": 1}
    store.commit([checkpoint("e1", status="completed", output=[1, "two", None])])
    completed = store.get_execution("e1")
    assert completed is not None
    assert completed.output == [1, "two", None]
    assert completed.error is None  # a retried execution that completes has no error left


def test_task_runs_are_inserted_then_updated(store: Store) -> None:
    create(store, "e1")
    store.commit([checkpoint("e1", task_runs=[task_run("e1", 1), task_run("e1", 2)])])
    done = task_run("e1", 1, status="completed", output={"ok": True}, ended_at=T0 + 5)
    failed = task_run("e1", 2, status="faulted", error={"status": 500}, attempt=2)
    store.commit([checkpoint("e1", task_runs=[done, failed])])
    assert store.task_runs("e1") == [done, failed]


def test_timers_and_subscriptions_are_added_and_removed(store: Store) -> None:
    create(store, "e1")
    timers = [TimerRecord("e1", "t1", T0 + 10), TimerRecord("e1", "t2", T0 + 20)]
    subs = [SubscriptionRecord("e1", "s1", [{"type": "a"}]), SubscriptionRecord("e1", "s2", [])]
    store.commit([checkpoint("e1", timers_added=timers, subscriptions_added=subs)])
    assert store.due_timers(before=T0 + 100, owner=None, limit=10) == timers
    assert store.subscriptions_matching({"type": "a"}) == subs
    store.commit([checkpoint("e1", timers_removed=["t1"], subscriptions_removed=["s2"])])
    assert store.due_timers(before=T0 + 100, owner=None, limit=10) == timers[1:]
    assert store.subscriptions_matching({"type": "a"}) == subs[:1]


def test_later_checkpoints_of_one_execution_in_a_batch_win(store: Store) -> None:
    create(store, "e1")
    timer = TimerRecord("e1", "t1", T0 + 10)
    store.commit(
        [
            checkpoint("e1", status="waiting", timers_added=[timer], task_runs=[task_run("e1", 1)]),
            checkpoint("e1", status="running", timers_removed=["t1"], state=None),
            checkpoint("e1", task_runs=[task_run("e1", 1, status="completed")]),
        ]
    )
    assert store.get_execution("e1").status == "running"  # type: ignore[union-attr]
    assert store.due_timers(before=T0 + 100, owner=None, limit=10) == []
    assert [run.status for run in store.task_runs("e1")] == ["completed"]


def test_outbox_items_wait_until_done(store: Store) -> None:
    create(store, "e1")
    create(store, "e2")
    store.commit([checkpoint("e1", outbox=[{"emit": 1}, {"emit": 2}])])
    store.commit([checkpoint("e2", outbox=[{"emit": 3}])])
    items = store.pending_outbox(limit=10)
    assert [(i.execution_id, i.payload) for i in items] == [
        ("e1", {"emit": 1}),
        ("e1", {"emit": 2}),
        ("e2", {"emit": 3}),
    ]
    assert store.pending_outbox(limit=2) == items[:2]
    store.outbox_done([items[0].id, items[2].id])
    assert store.pending_outbox(limit=10) == [OutboxItem(items[1].id, "e1", {"emit": 2})]


def test_signals_are_sent_read_and_consumed(store: Store) -> None:
    create(store, "e1")
    first = store.send_signal("e1", {"kind": "cancel"}, now=T0 + 3)
    second = store.send_signal("e1", {"kind": "resume"}, now=T0 + 4)
    assert second > first
    pending = store.pending_signals(owner=None, limit=10)
    assert [(s.id, s.payload, s.created_at) for s in pending] == [
        (first, {"kind": "cancel"}, T0 + 3),
        (second, {"kind": "resume"}, T0 + 4),
    ]
    store.commit([checkpoint("e1", signals_consumed=[first])])
    assert [s.id for s in store.pending_signals(owner=None, limit=10)] == [second]
    store.discard_signals([second])
    assert store.pending_signals(owner=None, limit=10) == []
    assert store.send_signal("e1", {"kind": "again"}, now=T0) > second  # ids are not reused


def test_a_signal_for_an_unknown_execution_is_refused(store: Store) -> None:
    with pytest.raises(StoreError):
        store.send_signal("missing", {"kind": "cancel"}, now=T0)


def test_a_lost_lease_fails_the_whole_batch(store: Store) -> None:
    create(store, "e1", owner="p1")
    create(store, "e2", owner="p2")
    good = checkpoint("e1", status="completed", outbox=[{"emit": 1}], owner="p1")
    stale = checkpoint("e2", status="completed", owner="p1")
    with pytest.raises(LeaseLost) as caught:
        store.commit([good, stale])
    assert caught.value.execution_ids == ["e2"]
    assert store.get_execution("e1").status == "running"  # type: ignore[union-attr]
    assert store.pending_outbox(limit=10) == []
    store.commit([good])  # the runtime retries the rest
    assert store.get_execution("e1").status == "completed"  # type: ignore[union-attr]


def test_an_unknown_execution_fails_the_whole_batch(store: Store) -> None:
    create(store, "e1")
    with pytest.raises(StoreError):
        store.commit([checkpoint("e1", status="completed"), checkpoint("ghost")])
    with pytest.raises(LeaseLost):
        store.commit([checkpoint("ghost", owner="p1")])
    assert store.get_execution("e1").status == "running"  # type: ignore[union-attr]


def test_a_value_that_is_not_json_fails_the_whole_batch(store: Store) -> None:
    create(store, "e1")
    create(store, "e2")
    with pytest.raises(StoreError):
        store.commit([checkpoint("e1", status="completed"), checkpoint("e2", output={1, 2})])
    assert store.get_execution("e1").status == "running"  # type: ignore[union-attr]


def test_stored_values_do_not_alias_the_callers(store: Store) -> None:
    state = {"items": [1]}
    create(store, "e1")
    store.commit([checkpoint("e1", state=state)])
    state["items"].append(2)
    loaded = store.load_state("e1")
    assert loaded == {"items": [1]}
    loaded["items"].append(3)
    assert store.load_state("e1") == {"items": [1]}


def test_task_runs_keep_the_revision_they_ran_on(store: Store) -> None:
    create(store, "e1", revision="shop-00001")
    first = task_run("e1", 1, status="completed", revision="shop-00001")
    store.commit([checkpoint("e1", task_runs=[first])])
    second = task_run("e1", 2, status="completed", revision="shop-00002")
    store.commit([checkpoint("e1", task_runs=[second])])
    assert [run.revision for run in store.task_runs("e1")] == ["shop-00001", "shop-00002"]


def test_a_checkpoint_moves_an_execution_to_another_workflow_and_revision(store: Store) -> None:
    """A retry on a newer revision: the execution goes on with that revision's workflow
    (and recovery loads that one); a checkpoint that names neither keeps them."""
    create(store, "e1", revision="shop-00001")
    store.commit([checkpoint("e1", workflow_id="wf-2", revision="shop-00002")])
    store.commit([checkpoint("e1", status="completed")])
    found = store.get_execution("e1")
    assert found is not None
    assert (found.workflow_id, found.revision, found.status) == ("wf-2", "shop-00002", "completed")
    ((loaded, _),) = store.load_executions(["e1"])
    assert (loaded.workflow_id, loaded.revision) == ("wf-2", "shop-00002")


def test_a_state_already_encoded_is_written_as_it_is(store: Store) -> None:
    """A decider process hands the state over as JSON text; no adapter re-encodes it."""
    create(store, "e1")
    state = {"execution_id": "e1", "big": 2**70, "text": "é", "nested": [[[1.5]]]}
    encoded = orjson.Fragment(codec.dumps(state))
    store.commit([checkpoint("e1", state=encoded, updated_at=T0 + 2)])
    assert store.load_state("e1") == state
    assert store.load_executions(["e1"])[0][1] == state
