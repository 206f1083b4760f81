"""The PostgreSQL server of the fault tests: throwaway databases, and restarting it.

The server is ``FLOWAPP_TEST_POSTGRES`` (an admin URL, default the local ``postgres``
user on 127.0.0.1:5432), as for the store tests. When it cannot be reached the tests are
skipped with the reason, except under CI (``CI`` set), where that is a failure.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import sqlalchemy as sa

from tests import postgres
from tests.integration.faults.processes import port_open
from tests.postgres import ADMIN_URL
from tests.servers import unavailable


@contextmanager
def throwaway_database() -> Iterator[str]:
    """A database of this test's own; dropped once the server accepts connections again."""
    with postgres.throwaway_database(
        "flowapp_faults", before_drop=lambda: wait_accepting(timeout=30)
    ) as url:
        yield url


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
        unavailable("cannot restart this PostgreSQL server (not a local cluster): test NOT run")
    started = time.monotonic()
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    while not port_open(server_port()):
        time.sleep(0.02)
    wait_accepting(timeout=30)
    return time.monotonic() - started
