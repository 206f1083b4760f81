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


def test_task_runs_come_a_page_at_a_time(store: Store) -> None:
    create(store, "e1")
    runs = [task_run("e1", n) for n in range(1, 8)]
    store.commit([checkpoint("e1", task_runs=runs)])
    first = store.task_runs("e1", limit=3)
    second = store.task_runs("e1", after=first[-1].id, limit=3)
    third = store.task_runs("e1", after=second[-1].id, limit=3)
    assert [[run.id for run in page] for page in (first, second, third)] == [
        [1, 2, 3],
        [4, 5, 6],
        [7],
    ]
    assert store.task_runs("e1", after=7) == []
    assert store.count_task_runs("e1") == 7
    assert store.count_task_runs("missing") == 0
    # A run that ends keeps its place: the next read after it sees only newer ones.
    ended = task_run("e1", 2, status="completed", ended_at=T0 + 9)
    store.commit([checkpoint("e1", task_runs=[ended, task_run("e1", 8)])])
    assert [run.id for run in store.task_runs("e1", after=7)] == [8]
    assert store.task_runs("e1", after=1, limit=1)[0].status == "completed"


def test_task_runs_are_read_again_by_id(store: Store) -> None:
    create(store, "e1")
    create(store, "e2")
    store.commit([checkpoint("e1", task_runs=[task_run("e1", n) for n in range(1, 6)])])
    store.commit([checkpoint("e2", task_runs=[task_run("e2", 2)])])
    found = store.task_runs_by_id("e1", [4, 2, 99, 2])
    assert [(run.execution_id, run.id) for run in found] == [("e1", 2), ("e1", 4)]
    assert store.task_runs_by_id("e1", []) == []


def test_sub_workflows_are_found_by_their_parent(store: Store) -> None:
    create(store, "parent", created_at=T0)
    create(store, "child1", parent_id="parent", created_at=T0 + 1)
    create(store, "child2", parent_id="parent", created_at=T0 + 2)
    create(store, "other", parent_id="someone", created_at=T0 + 3)
    page = store.list_executions(ExecutionFilter(parent_id="parent"))
    assert [record.id for record in page.items] == ["child2", "child1"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ada", ["e3", "e1"]),  # any case of A-Z
        ('"name":"Ada"', ["e1"]),  # the compact JSON text, as every adapter keeps it
        ("zoë", ["e2"]),
        ("100%", ["e4"]),  # LIKE's wildcards are plain characters here
        ("_", ["e4"]),
        ("nobody", []),
    ],
)
def test_executions_are_found_by_text_in_their_input(
    store: Store, text: str, expected: list[str]
) -> None:
    inputs = [
        {"name": "Ada"},
        {"name": "Zoë"},
        ["ADA LOVELACE", 1815],
        {"discount": "100%", "code": "a_b"},
    ]
    for n, value in enumerate(inputs, start=1):
        create(store, f"e{n}", input=value, created_at=T0 + n)
    create(store, "e5", input=None, created_at=T0 + 5)
    where = ExecutionFilter(input_contains=text)
    assert [record.id for record in store.list_executions(where).items] == expected
    assert store.count_executions(where) == len(expected)


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
