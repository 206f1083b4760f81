"""Measurements from the in-memory execution store, on hand-made executions."""

from __future__ import annotations

import pytest

from flowapp.local.alerts.measure import execution_durations, failed_executions
from flowapp.store import MemoryStore

from .alert_factories import T0, execution, save_workflow

NOW = T0 + 1_000


@pytest.fixture
def store() -> MemoryStore:
    store = MemoryStore()
    save_workflow(store)
    return store


def test_failed_executions_counts_faulted_ones_created_in_the_window(store: MemoryStore) -> None:
    execution(store, "in-1", created_at=NOW - 10, started_at=NOW - 10, ended_at=NOW - 9)
    execution(store, "in-2", created_at=NOW - 60, ended_at=NOW - 59)  # faulted before start
    execution(store, "old", created_at=NOW - 61, ended_at=NOW - 5)  # created before it
    execution(store, "ok", status="completed", created_at=NOW - 5, ended_at=NOW - 4)
    execution(store, "other-app", created_at=NOW - 5, ended_at=NOW - 4, app="billing")
    execution(store, "running", status="running", created_at=NOW - 5)

    assert failed_executions(store, "shop", now=NOW, window=60) == 2
    assert failed_executions(store, "billing", now=NOW, window=60) == 1
    assert failed_executions(store, "shop", now=NOW, window=1) == 0


def test_durations_of_executions_that_ended_in_the_window(store: MemoryStore) -> None:
    execution(store, "fast", status="completed", started_at=NOW - 20, ended_at=NOW - 19.5)
    execution(store, "faulted", started_at=NOW - 30, ended_at=NOW - 27)
    # created and started long before the window, ended in it: it counts
    execution(
        store,
        "slow",
        status="completed",
        created_at=NOW - 500,
        started_at=NOW - 500,
        ended_at=NOW - 1,
    )
    execution(store, "ended-before", status="completed", started_at=NOW - 100, ended_at=NOW - 61)
    execution(store, "cancelled", status="cancelled", started_at=NOW - 9, ended_at=NOW - 1)
    execution(store, "running", status="running", started_at=NOW - 9)
    execution(store, "never-started", started_at=None, ended_at=NOW - 1)
    execution(
        store, "elsewhere", status="completed", app="billing", started_at=NOW - 9, ended_at=NOW - 1
    )

    durations = execution_durations(store, "shop", now=NOW, window=60, lookback=3_600)

    assert sorted(durations) == [0.5, 3.0, 499.0]


def test_executions_created_before_the_lookback_are_not_read(store: MemoryStore) -> None:
    execution(
        store,
        "ancient",
        status="completed",
        created_at=NOW - 5_000,
        started_at=NOW - 5_000,
        ended_at=NOW - 1,
    )

    assert execution_durations(store, "shop", now=NOW, window=60, lookback=3_600) == []
    assert execution_durations(store, "shop", now=NOW, window=60, lookback=6_000) == [4_999.0]


def test_at_most_max_rows_executions_are_read_newest_first(store: MemoryStore) -> None:
    for n in range(30):  # created one second apart, all ended together
        created = NOW - 100 + n
        execution(
            store,
            f"e{n:02d}",
            status="completed",
            created_at=created,
            started_at=created,
            ended_at=NOW - 1,
        )

    durations = execution_durations(store, "shop", now=NOW, window=60, max_rows=7)

    assert sorted(durations) == sorted(99.0 - n for n in range(23, 30))  # the 7 newest


def test_reading_pages_covers_more_than_one_page(
    store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("flowapp.local.alerts.measure.PAGE_SIZE", 4)
    for n in range(10):
        execution(
            store,
            f"e{n}",
            status="completed",
            created_at=NOW - 50 + n,
            started_at=NOW - 50 + n,
            ended_at=NOW - 5,
        )

    assert len(execution_durations(store, "shop", now=NOW, window=60)) == 10
    assert len(execution_durations(store, "shop", now=NOW, window=60, max_rows=9)) == 9
