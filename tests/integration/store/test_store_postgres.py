"""PostgreSQL outages: an unreachable server is ``StoreUnavailable``, lost connections heal.

The server is shared with other test runs: these tests only ever terminate connections
to their own throwaway database, and never restart anything.
"""

from __future__ import annotations

import socket

import pytest
import sqlalchemy as sa

from flowapp.store import ExecutionFilter, StoreUnavailable
from flowapp.store.sql import SqlStore
from flowapp.store.sql.errors import translate_errors
from tests.postgres import admin_connection

from .store_factories import checkpoint, create

pytestmark = pytest.mark.postgres


def closed_port() -> int:
    """A local port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_an_unreachable_server_is_unavailable() -> None:
    store = SqlStore(f"postgresql://postgres@127.0.0.1:{closed_port()}/flowapp")
    with pytest.raises(StoreUnavailable):
        store.get_execution("e1")
    with pytest.raises(StoreUnavailable):
        store.migrate()
    with pytest.raises(StoreUnavailable):
        store.commit([checkpoint("e1")])
    store.close()


def terminate_connections(store: SqlStore) -> int:
    """Kill every server process serving the store's database, as a restart would."""
    with admin_connection() as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (store.engine.url.database,),
        ).fetchall()
    return len(rows)


def test_the_next_call_works_after_the_connections_were_killed(pg_store: SqlStore) -> None:
    create(pg_store, "e1")
    assert terminate_connections(pg_store) >= 1  # the pooled connection of create()
    assert pg_store.get_execution("e1") is not None  # pre-ping replaced it
    pg_store.commit([checkpoint("e1", status="completed")])
    assert pg_store.count_executions(ExecutionFilter(status="completed")) == 1


def test_a_connection_lost_in_the_middle_is_unavailable_then_heals(pg_store: SqlStore) -> None:
    create(pg_store, "e1")
    with pg_store.engine.connect() as conn:  # checked out: no pre-ping protects it now
        conn.execute(sa.text("SELECT 1"))
        terminate_connections(pg_store)
        with pytest.raises(StoreUnavailable), translate_errors("test"):
            conn.execute(sa.text("SELECT 1"))
    assert pg_store.get_execution("e1") is not None  # the next call gets a new connection
