"""How long one group commit takes, on SQLite and on PostgreSQL.

Each checkpoint carries what a typical step writes: one task-run upsert, one execution
update with a ~2 KB state snapshot. Batches of 1 and of 50 checkpoints are committed
repeatedly; the median and 90th percentile per ``commit()`` call are printed.

    .venv/bin/python bench/store_commit.py [--postgres ADMIN_URL] [--rounds N]

PostgreSQL runs in a throwaway database that is created and dropped by the script.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import sqlalchemy as sa
from psycopg import sql

from flowapp.store import Checkpoint, ExecutionRecord, Store, TaskRunRecord
from flowapp.store.sql import SqlStore

EXECUTIONS = 50
STATE = {"data": {"items": [{"n": i, "text": "x" * 24} for i in range(40)]}, "position": 3}


def prepare(store: Store) -> None:
    for n in range(EXECUTIONS):
        record = ExecutionRecord(f"e{n:03d}", "wf", "running", {"n": n}, float(n), owner="bench")
        store.create_execution(record, Checkpoint(record.id, "running", STATE, 0.0))


def batch(size: int, step: int) -> list[Checkpoint]:
    now = time.time()
    return [
        Checkpoint(
            execution_id=f"e{n:03d}",
            status="running",
            state=STATE | {"position": step},
            updated_at=now,
            task_runs=[
                TaskRunRecord(
                    execution_id=f"e{n:03d}",
                    id=step,
                    parent_id=None,
                    reference="/do/0/a",
                    occurrence="/do/0/a",
                    name="a",
                    status="completed",
                    input={"n": step},
                    attempt=1,
                    started_at=now,
                    output={"ok": True},
                    ended_at=now,
                )
            ],
            owner="bench",
        )
        for n in range(size)
    ]


def measure(store: Store, size: int, rounds: int) -> tuple[float, float]:
    timings = []
    for step in range(rounds):
        checkpoints = batch(size, step + 1)
        started = time.perf_counter()
        store.commit(checkpoints)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.9)]


def report(name: str, store: Store, rounds: int) -> None:
    store.migrate()
    prepare(store)
    measure(store, EXECUTIONS, 5)  # warm up: connections, statement caches
    for size in (1, EXECUTIONS):
        median, p90 = measure(store, size, rounds)
        print(f"{name:<11} batch of {size:>2}: median {median:6.2f} ms   p90 {p90:6.2f} ms")
    store.close()


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    name = f"flowapp_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        report("sqlite", SqlStore(str(Path(directory) / "bench.db")), args.rounds)
    try:
        with postgres_database(args.postgres) as url:
            report("postgresql", SqlStore(url), args.rounds)
    except psycopg.OperationalError as exc:
        print(f"postgresql  skipped: {exc}")


if __name__ == "__main__":
    main()
