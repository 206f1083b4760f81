"""The package surface: exports, ``open_store`` and the in-memory fake in five lines."""

from __future__ import annotations

import flowapp.store
from flowapp.store import ExecutionRecord, MemoryStore, open_store
from flowapp.store.port import Checkpoint


def test_exports_are_pinned() -> None:
    assert sorted(flowapp.store.__all__) == [
        "Checkpoint",
        "DuplicateExecution",
        "ExecutionFilter",
        "ExecutionRecord",
        "LeaseLost",
        "MemoryStore",
        "OutboxItem",
        "Page",
        "PurgeFilter",
        "Purged",
        "SignalRecord",
        "Store",
        "StoreError",
        "StoreUnavailable",
        "SubscriptionRecord",
        "TaskRunRecord",
        "TimerRecord",
        "WorkflowRecord",
        "open_store",
    ]


def test_a_five_line_test_needs_no_database() -> None:
    store = open_store("memory://")
    first = Checkpoint("e1", "running", {"at": 0}, 1.0)
    store.create_execution(ExecutionRecord("e1", "wf", "running", {}, 1.0), first)
    store.commit([Checkpoint("e1", "completed", None, 2.0, output={"ok": True})])
    assert store.get_execution("e1").output == {"ok": True}  # type: ignore[union-attr]
    assert isinstance(store, MemoryStore)


def test_postgresql_urls_open_the_sql_store_without_connecting() -> None:
    store = open_store("postgresql://nobody@127.0.0.1:1/none")
    assert type(store).__name__ == "SqlStore"
    assert store.engine.url.drivername == "postgresql+psycopg"  # type: ignore[attr-defined]
    store.close()
