"""The platform store: apps, revisions, deploys, traffic, tokens, secrets, conditions,
alerts.

What the API server and the syncer persist besides executions (``port.py`` says what,
``records.py`` holds the records and errors). ``open_platform_store`` picks an adapter
by the same URLs as ``flowapp.store.open_store``:

- ``memory://``: ``MemoryPlatformStore``, in this process only (tests, demos);
- ``sqlite:///path/to/flowapp.db`` or a plain path: ``SqlPlatformStore`` on SQLite;
- ``postgresql://user@host/db``: ``SqlPlatformStore`` on PostgreSQL (psycopg 3).

Give both stores the same URL: the tables live side by side in one database under one
Alembic history, so either store's ``migrate()`` creates or upgrades both (safe to call
repeatedly, in any order, from many processes). ``open_platform_store`` does not touch
the database. The SQL adapter is imported lazily so ``memory://`` does not load
SQLAlchemy.
"""

from __future__ import annotations

from flowapp.store.platform.memory import MemoryPlatformStore
from flowapp.store.platform.port import PlatformStore
from flowapp.store.platform.records import (
    AlertRuleRecord,
    AlertRuleSpec,
    AlertStateRecord,
    AlreadyExists,
    AppExists,
    AppObservation,
    AppRecord,
    Condition,
    ConditionRecord,
    DeployRecord,
    FunctionStatus,
    InvalidTraffic,
    InvalidValue,
    NotFound,
    NotificationRecord,
    RevisionRecord,
    SecretRecord,
    TokenRecord,
    TrafficSplit,
    TriggerStatus,
)

__all__ = [
    "AlertRuleRecord",
    "AlertRuleSpec",
    "AlertStateRecord",
    "AlreadyExists",
    "AppExists",
    "AppObservation",
    "AppRecord",
    "Condition",
    "ConditionRecord",
    "DeployRecord",
    "FunctionStatus",
    "InvalidTraffic",
    "InvalidValue",
    "MemoryPlatformStore",
    "NotFound",
    "NotificationRecord",
    "PlatformStore",
    "RevisionRecord",
    "SecretRecord",
    "TokenRecord",
    "TrafficSplit",
    "TriggerStatus",
    "open_platform_store",
]


def open_platform_store(url: str) -> PlatformStore:
    """The platform store behind ``url`` (see the module docstring for the forms)."""
    if url.startswith("memory:"):
        return MemoryPlatformStore()
    from flowapp.store.platform.sql import SqlPlatformStore

    return SqlPlatformStore(url)
