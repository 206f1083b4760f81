"""History that does not grow without bound: reading a big execution, purging old ones.

- first page: ``GET /api/v1/executions/{id}`` of an execution of 10,000 task runs,
  through a real ``flowapp up`` over HTTP (its first 500 task runs inline, the rest
  paged): p50/p99, on SQLite and on PostgreSQL;
- purge: the engine's throughput (3-step workflow calling a real function process,
  50 in flight, in this process as in ``bench/steps.py``) without a purge, then while
  the retention sweeper (``flowapp.local.retention``, as ``flowapp up`` runs it) deletes
  old finished executions holding 1,000,000 task runs from the same database; and how
  long that purge took. SQLite, and PostgreSQL.

    .venv/bin/python -m bench history
    .venv/bin/python -m bench.history [--task-runs 10000] [--purge-runs 1000000] [--no-postgres]

``BENCH_QUICK=1`` shrinks the purge to 200,000 task runs.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.processes import function_host
from bench.stats import latency_line
from bench.steps import THREE_STEPS, in_flight, postgres_database, register, runtime_on
from flowapp.local.retention import RetentionSweeper
from flowapp.store import codec, open_store
from flowapp.store.retention import DAY, RetentionPolicy
from flowapp.store.sql import SqlStore
from flowapp.store.sql.tables import executions, task_runs
from tests.e2e.platform_process import flowapp_up

GETS = 200
RUNS_PER_EXECUTION = 100  # the purged history: executions of 100 task runs each
CHUNK = 50_000  # rows per transaction while seeding
OLD = time.time() - 90 * DAY


@dataclass(frozen=True)
class Sizes:
    task_runs: int = 10_000  # of the one big execution read through the API
    purge_runs: int = 1_000_000  # task runs in the history the purge deletes
    postgres: bool = True


# --- seeding ------------------------------------------------------------------------


def _execution_row(execution_id: str, app: str, at: float) -> dict[str, Any]:
    return {
        "id": execution_id,
        "workflow_id": "bench-history",
        "app": app,
        "status": "completed",
        "input": {"order": execution_id},
        "output": {"ok": True},
        "state": None,
        "created_at": at,
        "started_at": at,
        "ended_at": at + 1,
        "updated_at": at + 1,
    }


def _task_run_rows(execution_id: str, count: int, at: float) -> Iterator[dict[str, Any]]:
    for n in range(1, count + 1):
        yield {
            "execution_id": execution_id,
            "id": n,
            "parent_id": None,
            "reference": f"/do/{n % 7}/step",
            "occurrence": f"/do/{n % 7}/step",
            "name": f"step{n % 7}",
            "status": "completed",
            "input": {"n": n, "text": "an input of a typical size " * 3},
            "output": {"n": n, "ok": True, "text": "an output of a typical size " * 3},
            "error": None,
            "attempt": 1,
            "started_at": at + n * 1e-4,
            "ended_at": at + n * 1e-4 + 5e-5,
            "revision": None,
        }


def _columns(rows: list[dict[str, Any]]) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Column names and plain tuples, JSON values as their text (as the store writes them)."""
    names = list(rows[0])
    return names, [
        tuple(codec.dumps_text(v) if isinstance(v, dict) else v for v in row.values())
        for row in rows
    ]


def _insert(store: SqlStore, table: sa.Table, rows: Iterator[dict[str, Any]]) -> None:
    """Straight through the driver, CHUNK rows a transaction: COPY on PostgreSQL, one
    prepared INSERT on SQLite (seeding a million rows through SQLAlchemy's typed
    parameters would take minutes of the bench)."""
    postgres = store.engine.dialect.name == "postgresql"
    batch: list[dict[str, Any]] = []
    for row in itertools.chain(rows, [None]):
        if row is not None:
            batch.append(row)
        if batch and (row is None or len(batch) == CHUNK):
            names, values = _columns(batch)
            raw = store.engine.raw_connection()
            try:
                cursor = raw.cursor()
                if postgres:
                    command = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
                    with cursor.copy(command) as copy:
                        for value in values:
                            copy.write_row(value)
                else:
                    marks = ", ".join("?" for _ in names)
                    cursor.execute("BEGIN")
                    cursor.executemany(
                        f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})", values
                    )
                raw.commit()
            finally:
                raw.close()
            batch = []


def seed(store: SqlStore, *, prefix: str, count: int, runs_each: int, at: float = OLD) -> None:
    """``count`` completed executions of ``runs_each`` task runs each, started at ``at``
    (90 days ago unless told), straight into SQL."""
    ids = [f"{prefix}-{n:07d}" for n in range(count)]
    _insert(store, executions, (_execution_row(i, "bench", at) for i in ids))
    rows = (row for i in ids for row in _task_run_rows(i, runs_each, at))
    _insert(store, task_runs, rows)


# --- the first page of a big execution, over HTTP -----------------------------------


def first_page(data: Path, sizes: Sizes, *up_args: str, db: str | None = None) -> list[float]:
    store = SqlStore(db or f"sqlite:///{data / 'flowapp.db'}")
    store.migrate()
    # Recent: the server's retention sweeper would delete an old one under the bench.
    seed(store, prefix="big", count=1, runs_each=sizes.task_runs, at=time.time())
    store.close()
    with flowapp_up(data, *up_args) as platform, platform.client() as api:
        url = "/api/v1/executions/big-0000000"
        for _ in range(10):  # warm-up: connections, caches
            api.get(url).raise_for_status()
        samples = []
        for _ in range(GETS):
            started = time.perf_counter()
            answer = api.get(url)
            samples.append(time.perf_counter() - started)
            body = answer.json()
        assert body.get("task_count") == sizes.task_runs and body["tasks_next_cursor"], body
        paged = len(body["tasks"])
    assert paged < sizes.task_runs
    return samples


def first_page_lines(sizes: Sizes) -> Iterator[str]:
    name = f"GET /executions/{{id}} of {sizes.task_runs:,} task runs, first page"
    with tempfile.TemporaryDirectory() as scratch:
        samples = first_page(Path(scratch) / "data", sizes)
    yield latency_line(f"{name}, SQLite", samples) + "; target p50 <= 50 ms"
    if sizes.postgres:
        with tempfile.TemporaryDirectory() as scratch, postgres_database() as db:
            samples = first_page(Path(scratch) / "data", sizes, "--db", db, db=db)
        yield latency_line(f"{name}, PostgreSQL", samples) + "; target p50 <= 50 ms"


# --- the engine's throughput during a purge -----------------------------------------


async def throughput_during_purge(url: str, db_url: str, sizes: Sizes, label: str) -> list[str]:
    store = open_store(db_url)
    store.migrate()
    assert isinstance(store, SqlStore)
    count = max(1, sizes.purge_runs // RUNS_PER_EXECUTION)
    started = time.perf_counter()
    seed(store, prefix="old", count=count, runs_each=RUNS_PER_EXECUTION)
    seeded = time.perf_counter() - started
    three = register(store, THREE_STEPS)
    policy = RetentionPolicy(default=30 * DAY)
    sweeper = RetentionSweeper(store, lambda: policy)
    lines = [
        f"{label}: seeded {count:,} old executions, {count * 100:,} task runs ({seeded:.0f} s)"
    ]
    async with runtime_on(store, url) as runtime:
        await in_flight(runtime, three, 200, 50)  # warm-up
        alone, _ = await in_flight(runtime, three, 1500, 50)
        purge = asyncio.create_task(sweeper.sweep())
        purge_started = time.perf_counter()
        done = 0
        load_started = time.perf_counter()
        while not purge.done():
            await in_flight(runtime, three, 250, 50)
            done += 250
        during = done / (time.perf_counter() - load_started)
        purged = await purge
        purge_seconds = time.perf_counter() - purge_started
    store.close()
    lines.append(
        f"{label}: 3-step, 50 in flight: {alone:,.0f} executions/s alone, {during:,.0f}/s "
        f"while purging ({during / alone:.2f}x)"
    )
    lines.append(
        f"{label}: purge of {purged.executions:,} executions and {purged.task_runs:,} task runs "
        f"took {purge_seconds:.1f} s ({purged.task_runs / purge_seconds:,.0f} task runs/s, "
        "batches of 500, pausing twice a batch's time)"
    )
    return lines


def purge_lines(sizes: Sizes) -> Iterator[str]:
    with tempfile.TemporaryDirectory() as scratch, function_host() as (url, _):
        sqlite = f"sqlite:///{Path(scratch) / 'purge.db'}"
        yield from asyncio.run(throughput_during_purge(url, sqlite, sizes, "SQLite"))
        if sizes.postgres:
            with postgres_database() as db:
                yield from asyncio.run(throughput_during_purge(url, db, sizes, "PostgreSQL"))


def main(sizes: Sizes | None = None) -> Iterator[str]:
    """Each line as soon as it is measured."""
    if sizes is None:
        quick = os.environ.get("BENCH_QUICK") == "1"
        sizes = Sizes(purge_runs=200_000 if quick else 1_000_000)
    yield from first_page_lines(sizes)
    yield from purge_lines(sizes)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task-runs", type=int, default=Sizes.task_runs)
    parser.add_argument("--purge-runs", type=int, default=Sizes.purge_runs)
    parser.add_argument("--no-postgres", action="store_true")
    options = parser.parse_args()
    chosen = Sizes(options.task_runs, options.purge_runs, postgres=not options.no_postgres)
    for line in main(chosen):
        print(line, flush=True)
