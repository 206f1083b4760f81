"""The store: the port (``port.py``) and ``open_store``, which picks an adapter by URL.

- ``memory://``: ``MemoryStore``, in this process only (tests, demos);
- ``sqlite:///path/to/flowapp.db`` or a plain path: ``SqlStore`` on SQLite (the
  embedded default; parent directories are created);
- ``postgresql://user@host/db``: ``SqlStore`` on PostgreSQL through psycopg 3 (several
  engine processes share it).

``open_store`` does not create the schema: call ``store.migrate()`` once at start-up.
The SQL adapter is imported lazily so that ``memory://`` does not load SQLAlchemy.
"""

from __future__ import annotations

from flowapp.store.memory import MemoryStore
from flowapp.store.port import (
    Checkpoint,
    DuplicateExecution,
    ExecutionFilter,
    ExecutionRecord,
    LeaseLost,
    OutboxItem,
    Page,
    Purged,
    PurgeFilter,
    SignalRecord,
    Store,
    StoreError,
    StoreUnavailable,
    SubscriptionRecord,
    TaskRunRecord,
    TimerRecord,
    WorkflowRecord,
)

__all__ = [
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


def open_store(url: str) -> Store:
    """The store behind ``url`` (see the module docstring for the forms accepted)."""
    if url.startswith("memory:"):
        return MemoryStore()
    from flowapp.store.sql import SqlStore

    return SqlStore(url)
