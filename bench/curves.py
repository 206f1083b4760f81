"""How cost grows with work: curves on SQLite and PostgreSQL, plotted.

- latency of one execution against its number of sequential ``set`` steps (10, 100,
  1,000) and against the width of a ``fork`` of ``set`` branches (10, 100, 1,000);
- memory (the engine process's RSS) against executions parked in ``wait`` (10,000 and
  ``BENCH_PARKED_BIG``, default 100,000), each size in a fresh process;
- database bytes per execution and per task run (executions of 1, 10 and 100 steps);
- throughput against executions in flight (1, 10, 50, 200), with the 3-step workflow of
  the ``steps`` suite, whose steps call a trivial function in its own process.

Latency, memory and bytes use pure ``set`` steps, so they show the engine and the store
alone. The figures go to stdout; the plots (PNG, matplotlib) and the figures (JSON) to
``docs/bench/`` (``BENCH_CURVES_OUT`` to write them elsewhere).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import psycopg

from bench.processes import function_host, rss_mib
from bench.steps import THREE_STEPS, in_flight, postgres_database, register, runtime_on
from flowapp.engine.testing import workflow_from_yaml
from flowapp.runtime.registry import LoadedWorkflow, WorkflowRegistry
from flowapp.runtime.runtime import Runtime
from flowapp.store import open_store
from flowapp.store.port import Store

HEADER = "document: {dsl: '1.0.3', namespace: bench, name: NAME, version: '1.0.0'}\n"
OUT = Path(os.environ.get("BENCH_CURVES_OUT", Path(__file__).parents[1] / "docs" / "bench"))
BACKENDS = ("sqlite", "postgresql")


def sequential(steps: int) -> str:
    body = "".join(f"  - s{i}: {{set: {{n: {i}}}}}\n" for i in range(steps))
    return HEADER.replace("NAME", f"seq{steps}") + "do:\n" + body


def fork(width: int) -> str:
    branches = "".join(f"          - b{i}: {{set: {{n: {i}}}}}\n" for i in range(width))
    return (
        HEADER.replace("NAME", f"fork{width}")
        + "do:\n  - fan:\n      fork:\n        branches:\n"
        + branches
    )


PARKED = HEADER.replace("NAME", "parked") + (
    "do:\n  - nap: {wait: {hours: 1}}\n  - done: {set: {done: true}}\n"
)


@contextlib.contextmanager
def backend(name: str, folder: Path) -> Any:
    """A new, migrated store of kind ``name``; yields (store, url)."""
    if name == "sqlite":
        url = f"sqlite:///{folder / f'curves-{time.time_ns()}.db'}"
        store = open_store(url)
        store.migrate()
        try:
            yield store, url
        finally:
            store.close()
        return
    with postgres_database() as url:
        store = open_store(url)
        store.migrate()
        try:
            yield store, url
        finally:
            store.close()


@contextlib.asynccontextmanager
async def set_runtime(store: Store) -> AsyncIterator[Runtime]:
    runtime = Runtime(store, owner="curves")
    await runtime.start(recover=False)
    try:
        yield runtime
    finally:
        await runtime.stop()


def add(store: Store, text: str) -> LoadedWorkflow:
    return WorkflowRegistry(store).add(workflow_from_yaml(text).definition)


async def latency(runtime: Runtime, workflow: LoadedWorkflow, runs: int) -> float:
    """Median seconds from start to the outcome, one execution at a time (one warm-up)."""
    samples = []
    for run in range(runs + 1):
        started = time.perf_counter()
        execution_id = await runtime.start_execution(workflow, {})
        outcome = await runtime.wait_for(execution_id, timeout=600)
        assert outcome.status == "completed", outcome
        if run:
            samples.append(time.perf_counter() - started)
    return statistics.median(samples)


# --- database bytes -----------------------------------------------------------------


def database_bytes(store: Store, url: str) -> int:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]
        with contextlib.closing(sqlite3.connect(path)) as database:
            database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            pages = database.execute("PRAGMA page_count").fetchone()[0]
            free = database.execute("PRAGMA freelist_count").fetchone()[0]
            size = database.execute("PRAGMA page_size").fetchone()[0]
        return int((pages - free) * size)
    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute("SELECT pg_database_size(current_database())").fetchone()
        assert row is not None
        return int(row[0])


async def bytes_per_execution(store: Store, url: str, steps: int, executions: int) -> float:
    workflow = add(store, sequential(steps))
    async with set_runtime(store) as runtime:
        await runtime.wait_for(await runtime.start_execution(workflow, {}), timeout=60)
        before = database_bytes(store, url)
        for start in range(0, executions, 50):  # 50 at a time: the commits group them
            ids = [
                await runtime.start_execution(workflow, {})
                for _ in range(min(50, executions - start))
            ]
            for execution_id in ids:
                outcome = await runtime.wait_for(execution_id, timeout=600)
                assert outcome.status == "completed", outcome
    return (database_bytes(store, url) - before) / executions


# --- memory of parked executions, each size in a fresh process ---------------------------


async def _park(kind: str, count: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as temporary, backend(kind, Path(temporary)) as (store, _):
        workflow = add(store, PARKED)
        async with set_runtime(store) as runtime:
            for _ in range(100):  # warm-up: caches, connections, the first allocations
                await runtime.start_execution(workflow, {})
            gc.collect()
            baseline = rss_mib(os.getpid())
            started = time.perf_counter()
            for start in range(0, count, 500):
                batch = min(500, count - start)
                await asyncio.gather(*(runtime.start_execution(workflow, {}) for _ in range(batch)))
            elapsed = time.perf_counter() - started
            gc.collect()
            parked = rss_mib(os.getpid())
            live = len(runtime.live)
        return {"baseline_mib": baseline, "rss_mib": parked, "start_s": elapsed, "live": live}


def parked_in_subprocess(kind: str, count: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.curves", "park", kind, str(count)],
        capture_output=True,
        text=True,
        check=True,
        timeout=3600,
        cwd=Path(__file__).parents[1],
    )
    return dict(json.loads(done.stdout.splitlines()[-1]))


# --- the suite ------------------------------------------------------------------------


async def engine_curves(kind: str, folder: Path, quick: bool, result: dict[str, Any]) -> None:
    sizes = (10, 100, 1000)
    runs = {10: 20, 100: 10, 1000: 3} if not quick else {10: 5, 100: 3, 1000: 1}
    with backend(kind, folder) as (store, url):
        async with set_runtime(store) as runtime:
            result["sequential_ms"] = {
                n: 1000 * await latency(runtime, add(store, sequential(n)), runs[n]) for n in sizes
            }
            result["fork_ms"] = {
                n: 1000 * await latency(runtime, add(store, fork(n)), runs[n]) for n in sizes
            }
        executions = 100 if quick else 300
        result["bytes_per_execution"] = {
            n: await bytes_per_execution(store, url, n, executions) for n in (1, 10, 100)
        }


async def throughput_curve(kind: str, url: str, folder: Path, quick: bool) -> dict[int, float]:
    curve = {}
    with backend(kind, folder) as (store, _):
        three = register(store, THREE_STEPS)
        async with runtime_on(store, url) as runtime:
            await in_flight(runtime, three, 50, 10)  # warm-up
            for width in (1, 10, 50, 200):
                total = max(100 if quick else 300, width * (3 if quick else 6))
                rate, _ = await in_flight(runtime, three, total, width)
                curve[width] = rate
    return curve


def fit_bytes(per_execution: dict[int, float]) -> tuple[float, float]:
    """(bytes per execution without its task runs, bytes per task run): a least-squares
    line through bytes per execution against task runs per execution."""
    xs, ys = list(per_execution), list(per_execution.values())
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mean_x) ** 2 for x in xs
    )
    return mean_y - slope * mean_x, slope


def lines_of(kind: str, result: dict[str, Any]) -> list[str]:
    label = "SQLite" if kind == "sqlite" else "PostgreSQL"
    out = []
    for key, what in (("sequential_ms", "sequential set steps"), ("fork_ms", "fork width")):
        points = result[key]
        shown = ", ".join(
            f"{n:,}: {ms:.1f} ms ({1000 * ms / n:.0f} µs each)" for n, ms in points.items()
        )
        out.append(f"{label}, latency against {what}: {shown}")
    fixed, per_run = fit_bytes(result["bytes_per_execution"])
    shown = ", ".join(f"{n} steps {b:,.0f} B" for n, b in result["bytes_per_execution"].items())
    out.append(
        f"{label}, database bytes per execution: {shown}; fit: {fixed:,.0f} B per execution "
        f"+ {per_run:,.0f} B per task run"
    )
    for count, parked in result["parked"].items():
        grown = (parked["rss_mib"] - parked["baseline_mib"]) * 1024 * 1024 / count
        out.append(
            f"{label}, {count:,} executions parked in wait: RSS {parked['rss_mib']:.0f} MiB "
            f"(from {parked['baseline_mib']:.0f} MiB: {grown:,.0f} B each; "
            f"started in {parked['start_s']:.1f} s)"
        )
    shown = ", ".join(f"{w}: {rate:,.0f}/s" for w, rate in result["throughput"].items())
    out.append(f"{label}, 3-step function workflow, executions/s against in flight: {shown}")
    return out


def plot(results: dict[str, dict[str, Any]], folder: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    written = []

    def figure(name: str, draw: Callable[[Any], None]) -> None:
        fig, axes = plt.subplots(figsize=(5.5, 3.6), dpi=110)
        draw(axes)
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=8)
        fig.tight_layout()
        path = folder / f"{name}.png"
        fig.savefig(path, metadata={"Software": None})
        plt.close(fig)
        written.append(path)

    labels = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}

    def latency_of(key: str, xlabel: str) -> Callable[[Any], None]:
        def draw(axes: Any) -> None:
            for kind, result in results.items():
                xs = list(result[key])
                ys = list(result[key].values())
                axes.loglog(xs, ys, "o-", label=labels[kind])
                axes.loglog(xs, [ys[0] * x / xs[0] for x in xs], ":", color="grey", label="_linear")
            axes.set_xlabel(xlabel)
            axes.set_ylabel("latency of one execution, ms (median)")
            axes.set_title("dotted: linear from the first point", fontsize=8)

        return draw

    figure("latency_sequential", latency_of("sequential_ms", "sequential set steps"))
    figure("latency_fork", latency_of("fork_ms", "fork width (set branches)"))

    def memory(axes: Any) -> None:
        for kind, result in results.items():
            counts = sorted(result["parked"])
            axes.plot(
                [0, *counts],
                [result["parked"][counts[0]]["baseline_mib"]]
                + [result["parked"][c]["rss_mib"] for c in counts],
                "o-",
                label=labels[kind],
            )
        axes.set_xlabel("executions parked in wait")
        axes.set_ylabel("engine process RSS, MiB")

    figure("memory_parked", memory)

    def storage(axes: Any) -> None:
        for kind, result in results.items():
            points = result["bytes_per_execution"]
            axes.plot(list(points), [b / 1024 for b in points.values()], "o-", label=labels[kind])
        axes.set_xlabel("task runs per execution (set steps)")
        axes.set_ylabel("database KiB per execution")

    figure("bytes_per_execution", storage)

    def throughput(axes: Any) -> None:
        for kind, result in results.items():
            points = result["throughput"]
            axes.semilogx(list(points), list(points.values()), "o-", label=labels[kind])
        axes.set_xlabel("executions in flight")
        axes.set_ylabel("executions/s (3-step, function calls)")

    figure("throughput_in_flight", throughput)
    return written


def main() -> list[str]:
    quick = os.environ.get("BENCH_QUICK") == "1"
    big = int(os.environ.get("BENCH_PARKED_BIG", "20000" if quick else "100000"))
    small = 2000 if quick else 10_000
    results: dict[str, dict[str, Any]] = {kind: {} for kind in BACKENDS}
    with tempfile.TemporaryDirectory() as temporary, function_host() as (url, _):
        folder = Path(temporary)
        for kind in BACKENDS:
            result = results[kind]
            asyncio.run(engine_curves(kind, folder, quick, result))
            result["throughput"] = asyncio.run(throughput_curve(kind, url, folder, quick))
            result["parked"] = {n: parked_in_subprocess(kind, n) for n in (small, big)}
    load = os.getloadavg()  # the machine's other work moves every figure: say how busy it was
    lines = [line for kind in BACKENDS for line in lines_of(kind, results[kind])]
    lines.append(f"load average at the end: {load[0]:.1f} (1 min), {load[2]:.1f} (15 min)")
    written = plot(results, OUT)
    figures = {"load_average": [round(x, 1) for x in load], **results}
    (OUT / "curves.json").write_text(json.dumps(figures, indent=1) + "\n")
    lines.append("plots: " + ", ".join(str(p.relative_to(OUT.parent.parent)) for p in written))
    return lines


if __name__ == "__main__":
    if sys.argv[1:2] == ["park"]:
        print(json.dumps(asyncio.run(_park(sys.argv[2], int(sys.argv[3])))))
    else:
        print("\n".join(main()))
