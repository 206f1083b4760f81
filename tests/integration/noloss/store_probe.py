"""Reading a ``flowapp up`` SQLite store from outside, read-only, while it runs or after
it was killed.

The tests poll these (every few milliseconds) to decide when to crash the platform: the
API would have to page through every execution for a count. ``mode=ro`` guarantees the
probe never writes; in WAL mode a reader does not block the platform's commits, and each
probe opens and closes its own connection so it holds no snapshot back.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def _reading(db: Path) -> Iterator[sqlite3.Connection | None]:
    if not db.exists():
        yield None
        return
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        yield connection
    finally:
        connection.close()


def status_counts(db: Path, app: str) -> Counter[str]:
    """How many executions of ``app`` there are, by status (empty before the first start,
    or while the schema is not there yet)."""
    with _reading(db) as connection:
        if connection is None:
            return Counter()
        try:
            rows = connection.execute(
                "SELECT status, count(*) FROM executions WHERE app = ? GROUP BY status", (app,)
            ).fetchall()
        except sqlite3.OperationalError:  # no such table: migrations still running
            return Counter()
    return Counter({status: count for status, count in rows})


def completions(db: Path, app: str) -> list[tuple[Any, float]]:
    """``(input, ended_at)`` of every completed execution of ``app``."""
    with _reading(db) as connection:
        if connection is None:
            return []
        rows = connection.execute(
            "SELECT input, ended_at FROM executions WHERE app = ? AND status = 'completed'",
            (app,),
        ).fetchall()
    return [(json.loads(data) if data is not None else None, ended) for data, ended in rows]
