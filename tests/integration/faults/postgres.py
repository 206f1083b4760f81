"""The PostgreSQL server of the fault tests: throwaway databases, and restarting it.

The server is ``FLOWAPP_TEST_POSTGRES`` (an admin URL, default the local ``postgres``
user on 127.0.0.1:5432), as for the store tests. When it cannot be reached the tests are
skipped with the reason, except under CI (``CI`` set), where that is a failure.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import sql

from tests.integration.faults.processes import port_open

ADMIN_URL = os.environ.get("FLOWAPP_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def admin_connection() -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL UNREACHABLE at {ADMIN_URL}: {exc}; fault test NOT run"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@contextmanager
def throwaway_database() -> Iterator[str]:
    """Create a database of our own (never touch shared ones), yield its URL, drop it."""
    name = f"flowapp_faults_{uuid.uuid4().hex[:12]}"
    with admin_connection() as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield sa.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        # A new connection: the server may have been restarted by the test meanwhile.
        wait_accepting(timeout=30)
        with admin_connection() as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def server_port() -> int:
    return sa.make_url(ADMIN_URL).port or 5432


def wait_accepting(timeout: float) -> float:
    """Seconds until the server accepts a real connection (not only a TCP one)."""
    started = time.monotonic()
    while True:
        try:
            with psycopg.connect(ADMIN_URL, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return time.monotonic() - started
        except psycopg.OperationalError:
            if time.monotonic() - started > timeout:
                raise
            time.sleep(0.05)


def restart_command() -> list[str] | None:
    """``pg_ctlcluster`` for the local cluster, when the server is local and we may run it."""
    clusters = Path("/etc/postgresql")
    if sa.make_url(ADMIN_URL).host not in ("127.0.0.1", "localhost"):
        return None
    versions = sorted(p.name for p in clusters.iterdir()) if clusters.is_dir() else []
    if not versions or not Path("/usr/bin/pg_ctlcluster").exists():
        return None
    # fast: disconnect the clients at once (as a crash or failover would) instead of
    # waiting for them to leave.
    return [
        "pg_ctlcluster",
        "--skip-systemctl-redirect",
        "--mode",
        "fast",
        versions[-1],
        "main",
        "restart",
    ]


def restart_server() -> float:
    """Restart the server; returns how long it did not accept connections (seconds)."""
    command = restart_command()
    if command is None:
        message = "cannot restart this PostgreSQL server (not a local cluster); fault test NOT run"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    started = time.monotonic()
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    while not port_open(server_port()):
        time.sleep(0.02)
    wait_accepting(timeout=30)
    return time.monotonic() - started
