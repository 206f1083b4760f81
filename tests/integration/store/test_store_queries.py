"""Listing, counting and matching: one body for every store adapter."""

from __future__ import annotations

import pytest

from flowapp.store import ExecutionFilter, Store, SubscriptionRecord

from .store_factories import T0, checkpoint, create, task_run


@pytest.fixture
def some_executions(store: Store) -> Store:
    """Six executions over two apps, two workflows and three statuses."""
    rows = [
        ("a1", "shop", "wf-1", "running", T0 + 1),
        ("a2", "shop", "wf-2", "completed", T0 + 2),
        ("a3", "shop", "wf-1", "faulted", T0 + 3),
        ("b1", "bank", "wf-1", "running", T0 + 4),
        ("b2", "bank", "wf-2", "completed", T0 + 5),
        ("b3", None, "wf-2", "running", T0 + 6),
    ]
    for execution_id, app, workflow_id, status, created_at in rows:
        create(store, execution_id, app=app, workflow_id=workflow_id, created_at=created_at)
        store.commit([checkpoint(execution_id, status=status)])
    return store


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (ExecutionFilter(), ["b3", "b2", "b1", "a3", "a2", "a1"]),
        (ExecutionFilter(app="shop"), ["a3", "a2", "a1"]),
        (ExecutionFilter(workflow_id="wf-2"), ["b3", "b2", "a2"]),
        (ExecutionFilter(status="running"), ["b3", "b1", "a1"]),
        (ExecutionFilter(started_after=T0 + 3), ["b3", "b2", "b1", "a3"]),
        (ExecutionFilter(started_before=T0 + 3), ["a2", "a1"]),
        (ExecutionFilter(app="bank", status="completed", started_after=T0), ["b2"]),
        (ExecutionFilter(app="nobody"), []),
        (ExecutionFilter(id_prefix="a"), ["a3", "a2", "a1"]),
        (ExecutionFilter(id_prefix="b2"), ["b2"]),
        (ExecutionFilter(id_prefix="%"), []),  # a LIKE wildcard matches only itself
        (ExecutionFilter(id_prefix="_1"), []),
    ],
)
def test_list_and_count_with_each_filter(
    some_executions: Store, where: ExecutionFilter, expected: list[str]
) -> None:
    page = some_executions.list_executions(where)
    assert [record.id for record in page.items] == expected
    assert page.next_cursor is None
    assert some_executions.count_executions(where) == len(expected)


def test_pages_cover_every_execution_once_in_order(store: Store) -> None:
    # Pairs share a created_at, so the id must break ties in the cursor as in the order.
    ids = [f"e{n:02d}" for n in range(23)]
    for n, execution_id in enumerate(ids):
        create(store, execution_id, created_at=T0 + n // 2)
    expected = sorted(ids, key=lambda i: (T0 + int(i[1:]) // 2, i), reverse=True)
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = store.list_executions(ExecutionFilter(), limit=5, cursor=cursor)
        seen += [record.id for record in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == expected
    create(store, "newer", created_at=T0 + 100)  # new rows do not shift later pages
    first = store.list_executions(ExecutionFilter(), limit=5)
    later = store.list_executions(ExecutionFilter(), limit=5, cursor=first.next_cursor)
    assert [r.id for r in later.items] == expected[4:9]


def test_a_page_that_ends_exactly_has_no_cursor(store: Store) -> None:
    for n in range(4):
        create(store, f"e{n}", created_at=T0 + n)
    first = store.list_executions(ExecutionFilter(), limit=2)
    second = store.list_executions(ExecutionFilter(), limit=2, cursor=first.next_cursor)
    assert [r.id for r in second.items] == ["e1", "e0"]
    assert second.next_cursor is None


def test_ids_break_ties_byte_wise_on_every_adapter(store: Store) -> None:
    ids = ["a", "B", "_x", "Z-1", "a-", "é", "0"]
    for execution_id in ids:
        create(store, execution_id)
    first = store.list_executions(ExecutionFilter(), limit=3)
    rest = store.list_executions(ExecutionFilter(), limit=10, cursor=first.next_cursor)
    listed = [record.id for record in first.items + rest.items]
    assert listed == sorted(ids, key=lambda i: i.encode(), reverse=True)


def test_a_foreign_cursor_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="invalid cursor"):
        store.list_executions(ExecutionFilter(), cursor="not a cursor")


def test_task_runs_come_in_the_order_they_started(store: Store) -> None:
    create(store, "e1")
    create(store, "e2")
    store.commit([checkpoint("e1", task_runs=[task_run("e1", n) for n in (3, 1, 10, 2)])])
    store.commit([checkpoint("e2", task_runs=[task_run("e2", 1, parent_id=None)])])
    assert [run.id for run in store.task_runs("e1")] == [1, 2, 3, 10]
    assert [run.execution_id for run in store.task_runs("e2")] == ["e2"]
    assert store.task_runs("missing") == []


def test_subscriptions_match_on_exact_attributes(store: Store) -> None:
    create(store, "e1")
    subs = [
        SubscriptionRecord("e1", "exact", [{"type": "order.created", "source": "shop"}]),
        SubscriptionRecord("e1", "either", [{"type": "order.paid"}, {"type": "order.created"}]),
        SubscriptionRecord("e1", "any", []),
        SubscriptionRecord("e1", "untyped", [{"source": "bank"}]),
    ]
    store.commit([checkpoint("e1", subscriptions_added=subs)])

    def matching(**attributes: str) -> list[str]:
        return [sub.effect_id for sub in store.subscriptions_matching(attributes)]

    assert matching(type="order.created", source="shop") == ["any", "either", "exact"]
    assert matching(type="order.created", source="web") == ["any", "either"]
    assert matching(type="order.paid", source="bank") == ["any", "either", "untyped"]
    assert matching(type="other") == ["any"]
    assert matching(source="bank") == ["any", "untyped"]


def test_load_executions_reads_records_and_states_at_once(store: Store) -> None:
    create(store, "e1")
    create(store, "e2")
    store.commit([checkpoint("e2", status="waiting", state={"frames": [1]})])
    loaded = {
        record.id: (record.status, state)
        for record, state in store.load_executions(["e1", "e2", "missing"])
    }
    assert set(loaded) == {"e1", "e2"}
    assert loaded["e2"] == ("waiting", {"frames": [1]})
