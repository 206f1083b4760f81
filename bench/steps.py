"""The step benchmark: what one workflow step costs against its floor.

Side by side, in one run, on this machine:
- the floor: per step, one loopback HTTP round trip to a trivial function plus one
  SQLite WAL commit (the least a durable step can cost, without group commit): latency
  one execution at a time, and throughput with 50 in flight;
- flowapp, a 3-step workflow whose steps call a trivial CloudEvents function (a real
  process): latency one execution at a time, and throughput with 50 in flight, on
  SQLite and on PostgreSQL, in-process and with 1 or 2 ``flowapp engine`` processes;
- a fan-out of 10 calls joined into an array, between two steps: latency;
- 10,000 executions parked in ``wait``: memory and how late their timers fire.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import psycopg

from bench.processes import cpu_seconds, engine_processes, function_host, rss_mib
from bench.roundtrips import RoundTripRelay, relayed
from bench.stats import latency_line, percentile
from flowapp.engine.testing import workflow_from_yaml
from flowapp.functions.client import encode_call
from flowapp.functions.port import FunctionCall
from flowapp.functions.remote import RemoteFunctions
from flowapp.runtime.deciders.base import Decider
from flowapp.runtime.dispatch import Effects
from flowapp.runtime.effects.functions import FunctionEffects
from flowapp.runtime.registry import LoadedWorkflow, WorkflowRegistry
from flowapp.runtime.runtime import Runtime
from flowapp.store import open_store
from flowapp.store.port import ExecutionFilter, Store

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
HEADER = "document: {dsl: '1.0.3', namespace: bench, name: NAME, version: '1.0.0'}\n"
THREE_STEPS = HEADER.replace("NAME", "three") + (
    "do:\n  - s1: {call: echo}\n  - s2: {call: echo}\n  - s3: {call: echo}\n"
)
FAN_OUT = HEADER.replace("NAME", "fanout") + (
    "do:\n  - first: {call: echo}\n  - fan:\n      fork:\n        branches:\n"
    + "".join(f"          - b{i}: {{call: echo}}\n" for i in range(10))
    + "  - join: {call: echo, with: {steps: '${ map(.steps) | add }'}}\n"
)
PARKED = HEADER.replace("NAME", "parked") + (
    "do:\n  - nap: {wait: {seconds: WAIT}}\n  - done: {set: {done: true}}\n"
)


# --- the floor ----------------------------------------------------------------------


def floor_database(path: Path) -> sqlite3.Connection:
    database = sqlite3.connect(path, isolation_level=None)
    database.execute("PRAGMA journal_mode=WAL")
    database.execute("PRAGMA synchronous=NORMAL")
    database.execute("CREATE TABLE IF NOT EXISTS steps (id INTEGER PRIMARY KEY, output TEXT)")
    return database


async def floor_execution(
    session: aiohttp.ClientSession, url: str, database: sqlite3.Connection, name: str
) -> None:
    """3 x (HTTP round trip to the function + one SQLite WAL commit of its output)."""
    for step in range(3):
        call = FunctionCall(
            function="echo",
            data={"steps": step},
            execution_id=name,
            task_reference=f"/do/{step}",
            attempt=1,
            idempotency_key=f"{name}/{step}",
        )
        headers, body = encode_call(call, app="bench")
        async with session.post(url, data=body, headers=headers) as response:
            output = await response.read()
        database.execute("BEGIN")
        database.execute("INSERT INTO steps (output) VALUES (?)", (output.decode(),))
        database.execute("COMMIT")


async def floor_latency(url: str, directory: Path, runs: int) -> list[float]:
    """The floor's executions one at a time: their latencies."""
    database = floor_database(directory / "floor.db")
    samples = []
    async with aiohttp.ClientSession() as session:
        for run in range(runs + 20):
            started = time.perf_counter()
            await floor_execution(session, url, database, f"f{run}")
            if run >= 20:  # warm-up excluded
                samples.append(time.perf_counter() - started)
    database.close()
    return samples


async def floor_in_flight(url: str, directory: Path, total: int, width: int) -> float:
    """The floor's executions/s with ``width`` in flight: each step still commits alone
    (no group commit), as the naive design does."""
    database = floor_database(directory / "floor.db")
    gate = asyncio.Semaphore(width)

    async def one(session: aiohttp.ClientSession, name: str) -> None:
        async with gate:
            await floor_execution(session, url, database, name)

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(one(session, f"w{n}") for n in range(width)))  # warm-up
        started = time.perf_counter()
        await asyncio.gather(*(one(session, f"t{n}") for n in range(total)))
        elapsed = time.perf_counter() - started
    database.close()
    return total / elapsed


# --- flowapp in this process --------------------------------------------------------


@contextlib.asynccontextmanager
async def runtime_on(store: Store, url: str, decider: Decider | None = None) -> Any:
    remote = RemoteFunctions({"echo": url}, app="bench")
    effects = Effects(functions=FunctionEffects(remote))
    runtime = Runtime(store, effects=effects, owner="bench", decider=decider)
    await runtime.start(recover=False)
    try:
        yield runtime
    finally:
        await runtime.stop()
        await remote.close()


def register(store: Store, text: str) -> LoadedWorkflow:
    definition = workflow_from_yaml(text, app_functions=frozenset({"echo"})).definition
    return WorkflowRegistry(store).add(definition, app_functions=frozenset({"echo"}))


async def one_at_a_time(runtime: Runtime, workflow: LoadedWorkflow, runs: int) -> list[float]:
    samples = []
    for run in range(runs + 20):
        started = time.perf_counter()
        execution_id = await runtime.start_execution(workflow, {"steps": 0})
        outcome = await runtime.wait_for(execution_id, timeout=30)
        assert outcome.status == "completed", outcome
        if run >= 20:
            samples.append(time.perf_counter() - started)
    return samples


async def in_flight(
    runtime: Runtime, workflow: LoadedWorkflow, total: int, width: int
) -> tuple[float, float]:
    """(executions/s, engine CPU seconds) with ``width`` executions in flight."""
    gate = asyncio.Semaphore(width)

    async def one() -> None:
        async with gate:
            execution_id = await runtime.start_execution(workflow, {"steps": 0})
            outcome = await runtime.wait_for(execution_id, timeout=60)
            assert outcome.status == "completed", outcome

    cpu = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(total)))
    elapsed = time.perf_counter() - started
    return total / elapsed, time.process_time() - cpu


def throughput_line(name: str, rate: float, steps: int, cpu: float, total: int) -> str:
    per_step = cpu / (total * steps) * 1000
    return (
        f"{name}: {rate:,.0f} executions/s, {rate * steps:,.0f} steps/s, "
        f"engine CPU {per_step:.3f} ms per step"
    )


# --- engine processes sharing PostgreSQL --------------------------------------------


async def through_engines(
    store: Store,
    workflow: LoadedWorkflow,
    total: int,
    width: int,
    submit_store: Store | None = None,
) -> float:
    """Executions/s when submitted to the store and run by engine processes; submitted
    through ``submit_store`` if given (the progress is counted through ``store``)."""
    submitter = Runtime(submit_store or store, owner="bench-driver")
    await submitter.start(recover=False)
    submitted = finished = 0
    done = ExecutionFilter(status="completed", workflow_id=workflow.id)
    baseline = await asyncio.to_thread(store.count_executions, done)
    started = time.perf_counter()
    try:
        while finished < total:
            deficit = min(total - submitted, width - (submitted - finished))
            if deficit > 0:  # submitted together: one group commit for all of them
                await asyncio.gather(
                    *(submitter.submit(workflow, {"steps": 0}) for _ in range(deficit))
                )
                submitted += deficit
            await asyncio.sleep(0.02)  # counting costs the database too: not too often
            finished = await asyncio.to_thread(store.count_executions, done) - baseline
    finally:
        await submitter.stop()
    return total / (time.perf_counter() - started)


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    name = f"flowapp_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- the suites ---------------------------------------------------------------------


async def sqlite_suite(url: str, directory: Path, lines: list[str], quick: bool) -> None:
    runs, total = (100, 500) if quick else (300, 2000)
    floor = await floor_latency(url, directory, runs)
    lines.append(latency_line("floor, 3 x (HTTP round trip + SQLite WAL commit)", floor))
    floor_rate = await floor_in_flight(url, directory, total, 50)
    lines.append(
        f"floor, 50 in flight (one commit per step): {floor_rate:,.0f} executions/s, "
        f"{floor_rate * 3:,.0f} steps/s"
    )
    store = open_store(f"sqlite:///{directory / 'flowapp.db'}")
    store.migrate()
    async with runtime_on(store, url) as runtime:
        three = register(store, THREE_STEPS)
        latency = await one_at_a_time(runtime, three, runs)
        ratio = percentile(latency, 0.5) / percentile(floor, 0.5)
        lines.append(
            latency_line("flowapp 3-step, one at a time, SQLite", latency)
            + f"; {ratio:.2f}x the floor's p50"
        )
        rate, cpu = await in_flight(runtime, three, total, 50)
        lines.append(
            throughput_line("flowapp 3-step, 50 in flight, SQLite", rate, 3, cpu, total)
            + f"; {rate / floor_rate:.2f}x the floor's throughput"
        )
        fan = register(store, FAN_OUT)
        fan_latency = await one_at_a_time(runtime, fan, runs // 2)
        lines.append(latency_line("fan-out of 10 + join (12 calls), SQLite", fan_latency))
    store.close()


async def postgres_suite(url: str, lines: list[str], quick: bool) -> None:
    total = 500 if quick else 1500
    with postgres_database() as db:
        store = open_store(db)
        store.migrate()
        three = register(store, THREE_STEPS)
        async with runtime_on(store, url) as runtime:
            rate, cpu = await in_flight(runtime, three, total, 50)
        lines.append(
            throughput_line(
                "flowapp 3-step, 50 in flight, PostgreSQL, in-process engine", rate, 3, cpu, total
            )
        )
        per_cpu_second = {}
        for count in (1, 2):
            with engine_processes(db, count, url) as pids:
                await through_engines(store, three, 50, 50)  # warm-up: connections, caches
                before = sum(cpu_seconds(pid) for pid in pids)
                rate = await through_engines(store, three, total, 50)
                cpu = sum(cpu_seconds(pid) for pid in pids) - before
            per_cpu_second[count] = total / cpu
            lines.append(
                throughput_line(
                    f"flowapp 3-step, 50 in flight, PostgreSQL, {count} engine process(es)",
                    rate,
                    3,
                    cpu,
                    total,
                )
                + f"; {total / cpu:,.0f} executions per engine CPU-second"
            )
        ratio = per_cpu_second[2] / per_cpu_second[1]
        lines.append(
            f"PostgreSQL, 2 engine processes vs 1: {ratio:.2f}x the executions per engine "
            "CPU-second (target: within 10 %)"
        )
        for count in (1, 2):
            lines.append(await counted_round_trips(db, store, three, url, count, total // 3))
        store.close()


async def counted_round_trips(
    db: str, store: Store, workflow: LoadedWorkflow, url: str, count: int, total: int
) -> str:
    """Round trips to PostgreSQL per execution, counted by relays in front of the server:
    one for the engine processes, one for the submitting driver (as an API server would
    create the execution); the driver's progress polling goes around them."""
    target = ("127.0.0.1", 5432)
    with RoundTripRelay(target).running() as engines, RoundTripRelay(target).running() as api:
        submit_store = open_store(relayed(db, api.port))
        try:
            with engine_processes(relayed(db, engines.port), count, url):
                await through_engines(store, workflow, 50, 50, submit_store)  # warm-up
                engines_before, api_before = engines.snapshot(), api.snapshot()
                await through_engines(store, workflow, total, 50, submit_store)
                by_engines = engines.snapshot().minus(engines_before)
                by_api = api.snapshot().minus(api_before)
        finally:
            submit_store.close()
    return (
        f"PostgreSQL round trips per 3-step execution, {count} engine process(es): "
        f"{(by_engines.round_trips + by_api.round_trips) / total:.1f} "
        f"(engines {by_engines.round_trips / total:.1f}, in {by_engines.requests / total:.1f} "
        f"requests and {by_engines.connections} new connections; submitting "
        f"{by_api.round_trips / total:.1f}; n={total}; target <= 5)"
    )


async def parked_suite(directory: Path, lines: list[str], quick: bool) -> None:
    count, wait = (2000, 8) if quick else (10_000, 20)
    store = open_store(f"sqlite:///{directory / 'parked.db'}")
    store.migrate()
    workflow = WorkflowRegistry(store).add(
        workflow_from_yaml(PARKED.replace("WAIT", str(wait))).definition
    )
    runtime = Runtime(store, owner="parked")
    await runtime.start(recover=False)
    ids = [await runtime.start_execution(workflow, {}) for _ in range(count)]
    parked_rss = rss_mib(os.getpid())
    outcomes = await asyncio.gather(*(runtime.wait_for(i, timeout=wait + 60) for i in ids))
    await runtime.stop()
    assert all(o.status == "completed" for o in outcomes)
    lateness = []
    for execution_id in ids:
        record = store.get_execution(execution_id)
        assert record is not None and record.started_at and record.ended_at
        lateness.append(record.ended_at - (record.started_at + wait))
    store.close()
    lines.append(
        f"{count:,} executions parked in wait: process RSS {parked_rss:.0f} MiB while parked; "
        f"timers fired late by p50 {percentile(lateness, 0.5) * 1000:.0f} ms, "
        f"max {max(lateness) * 1000:.0f} ms"
    )


def main() -> list[str]:
    quick = os.environ.get("BENCH_QUICK") == "1"
    lines: list[str] = []
    with tempfile.TemporaryDirectory() as temporary, function_host() as (url, _):
        directory = Path(temporary)
        asyncio.run(sqlite_suite(url, directory, lines, quick))
        asyncio.run(postgres_suite(url, lines, quick))
        asyncio.run(parked_suite(directory, lines, quick))
    return lines
