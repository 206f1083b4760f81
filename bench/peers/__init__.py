"""``python -m bench peers``: flowapp beside the peers a user would pick instead.

The same three workloads as ``bench/steps.py`` — a 3-step chain one at a time (p50,
p99), the same chain with 50 in flight (executions/s), a fan-out of 10 + join (p50) —
every step one HTTP call to the same echo function process, on:

- the floor (``bench.steps``: per step one HTTP round trip + one SQLite commit) and
  flowapp on SQLite and on PostgreSQL, in this process, measured in this run;
- Dramatiq and Celery (Redis broker and result backend at 127.0.0.1:6379);
- DBOS durable workflows on SQLite and on PostgreSQL (a database made for the run).

Each peer is installed at pinned versions in its own virtualenv under
``.bench-cache/peers/<name>`` (``BENCH_PEERS_CACHE``), never in the project's; its driver
(``drivers/peer_<name>.py``) starts and stops the peer's workers. Each install and each
run is bounded in time: a peer that fails or overstays is reported as such in the table
and its processes are ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
DRIVERS = HERE / "drivers"
ROOT = HERE.parent.parent
REDIS_URL = "redis://127.0.0.1:6379/0"
INSTALL_TIMEOUT = 600.0
RUN_TIMEOUT = 300.0
WIDTH = 50


@dataclass(frozen=True)
class Counts:
    runs: int  # chain executions one at a time
    total: int  # chain executions with WIDTH in flight
    fan_runs: int  # fan-out executions one at a time

    @staticmethod
    def chosen() -> Counts:
        if os.environ.get("BENCH_QUICK") == "1":
            return Counts(runs=50, total=300, fan_runs=30)
        return Counts(runs=200, total=1000, fan_runs=100)


@dataclass(frozen=True)
class Peer:
    name: str  # as the table shows it
    venv: str  # its virtualenv's folder under the cache
    requirements: tuple[str, ...]  # pinned
    driver: str  # file under drivers/
    settings: dict[str, Any] = field(default_factory=dict)
    compare_with: str = "flowapp SQLite"  # the flowapp column its ratio is taken against


@dataclass
class Figures:
    """One system's results; ``problem`` says why some are missing."""

    chain: list[float] | None = None
    rate: float | None = None
    fan_out: list[float] | None = None
    config: dict[str, Any] | None = None
    problem: str | None = None


PEERS_REDIS = (
    Peer("Dramatiq", "dramatiq", ("dramatiq[redis]==2.2.1", "redis==8.1.0"), "peer_dramatiq.py",
         {"processes": 2, "threads": 8}),
    Peer("Celery", "celery", ("celery[redis]==5.7.0", "redis==8.1.0"), "peer_celery.py",
         {"pool": "threads", "concurrency": 16}),  # faster here than prefork x 2, the default
)  # fmt: skip
DBOS_REQUIREMENTS = ("dbos==3.4.0", "psycopg[binary]==3.3.9")


# --- the virtualenvs ----------------------------------------------------------------


def cache_folder() -> Path:
    return Path(os.environ.get("BENCH_PEERS_CACHE", ROOT / ".bench-cache" / "peers"))


def ensure_venv(peer: Peer, timeout: float = INSTALL_TIMEOUT) -> Path:
    """The peer's virtualenv's Python, installed unless the cache holds these pins."""
    folder = cache_folder() / peer.venv
    python = folder / "bin" / "python"
    stamp = folder / "bench-requirements.txt"
    wanted = "\n".join(peer.requirements) + "\n"
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    shutil.rmtree(folder, ignore_errors=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    run_bounded([sys.executable, "-m", "venv", str(folder)], timeout, f"creating {folder}")
    install = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    run_bounded(
        [*install, *peer.requirements], timeout, f"pip install {' '.join(peer.requirements)}"
    )
    stamp.write_text(wanted)
    return python


def run_bounded(command: list[str], timeout: float, what: str) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{what}: no end within {timeout:.0f} s") from None
    if done.returncode != 0:
        raise RuntimeError(f"{what}: exit {done.returncode}: {last_line(done.stderr)}")


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip()[:200] if lines else "(no output)"


# --- one peer's run -----------------------------------------------------------------


def run_driver(
    python: Path, driver: Path, settings: dict[str, Any], timeout: float, log: Path
) -> Figures:
    """Runs a driver in its own process group, at most ``timeout`` seconds; reads what it
    reported even when it failed or was ended half-way."""
    env = {**os.environ, "BENCH_PEER": json.dumps(settings), "PYTHONPATH": str(driver.parent)}
    env.pop("VIRTUAL_ENV", None)
    with log.open("wb") as errors:
        process = subprocess.Popen(
            [str(python), str(driver)],
            cwd=driver.parent,
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
            start_new_session=True,
        )
        overstayed = False
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            overstayed = True
            end_group(process)
            output, _ = process.communicate()
    figures = read_reports(output.decode(errors="replace"))
    if overstayed:
        figures.problem = f"hung: no end within {timeout:.0f} s"
    elif process.returncode != 0:
        figures.problem = (
            f"failed (exit {process.returncode}): {last_line(log.read_text(errors='replace'))}"
        )
    return figures


def end_group(process: subprocess.Popen[bytes]) -> None:
    """Ends the driver and every worker it started (they share its process group)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(10)
            return
        except subprocess.TimeoutExpired:
            continue


def read_reports(output: str) -> Figures:
    figures = Figures()
    for line in output.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a peer's own print
        if not isinstance(record, dict):
            continue
        if "config" in record:
            figures.config = record["config"]
        elif record.get("workload") == "chain":
            figures.chain = record["samples"]
        elif record.get("workload") == "in_flight":
            figures.rate = record["rate"]
        elif record.get("workload") == "fan_out":
            figures.fan_out = record["samples"]
    return figures


def measure_peer(
    peer: Peer, function_url: str, headers: dict[str, str], counts: Counts, logs: Path
) -> Figures:
    try:
        python = ensure_venv(peer)
    except RuntimeError as exc:
        return Figures(problem=f"not installed: {exc}")
    settings = {
        "function_url": function_url,
        "headers": headers,
        "runs": counts.runs,
        "total": counts.total,
        "width": WIDTH,
        "fan_runs": counts.fan_runs,
        "redis_url": REDIS_URL,
        "namespace": f"bench-peers-{uuid.uuid4().hex[:10]}",
        **peer.settings,
    }
    log = logs / f"{peer.venv}-{peer.name.replace(' ', '-')}.log"
    return run_driver(python, DRIVERS / peer.driver, settings, RUN_TIMEOUT, log)


# --- the table ----------------------------------------------------------------------


def percentile_ms(samples: list[float] | None, fraction: float) -> float | None:
    from bench.stats import percentile

    return percentile(samples, fraction) * 1000 if samples else None


ROWS = (
    ("3-step chain, one at a time: p50", "ms"),
    ("3-step chain, one at a time: p99", "ms"),
    (f"3-step chain, {WIDTH} in flight: executions/s", "/s"),
    ("fan-out of 10 + join, one at a time: p50", "ms"),
)


def row_values(figures: Figures) -> list[float | None]:
    return [
        percentile_ms(figures.chain, 0.5),
        percentile_ms(figures.chain, 0.99),
        figures.rate,
        percentile_ms(figures.fan_out, 0.5),
    ]


@dataclass(frozen=True)
class Column:
    name: str
    figures: Figures
    compare: str | None = None  # the column it is compared with
    flowapp: bool = False  # the ratio is this column's figure over the other's, else the reverse


def cell(value: float | None, unit: str, ratio: float | None) -> str:
    if value is None:
        return "—"
    text = f"{value:.2f} ms" if unit == "ms" else f"{value:,.0f}/s"
    return text if ratio is None else f"{text} ({ratio:.2f}x)"


def flowapp_ratio(column: Column, own: float | None, other: float | None) -> float | None:
    if own is None or other is None or own <= 0 or other <= 0:
        return None
    return own / other if column.flowapp else other / own


def table(columns: Sequence[Column]) -> list[str]:
    """A Markdown table: a row per workload, a column per system; in brackets, flowapp's
    figure divided by the compared one (a peer's, or the floor's for flowapp's columns)."""
    values = {column.name: row_values(column.figures) for column in columns}
    lines = [
        "| workload | " + " | ".join(column.name for column in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for index, (label, unit) in enumerate(ROWS):
        cells = []
        for column in columns:
            own = values[column.name][index]
            other = values[column.compare][index] if column.compare in values else None
            cells.append(cell(own, unit, flowapp_ratio(column, own, other)))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines + [
        f"- {column.name}: {column.figures.problem}" for column in columns if column.figures.problem
    ]


def config_lines(name: str, figures: Figures, requirements: Sequence[str] = ()) -> list[str]:
    """The exact configuration a peer reported, or what was asked of it when it did not."""
    if not figures.config:
        wanted = ", ".join(requirements) or "—"
        return [f"{name}: no configuration reported (requirements {wanted})"]
    lines = [f"{name}:"]
    for key, value in figures.config.items():
        if isinstance(value, dict):
            value = ", ".join(f"{package} {version}" for package, version in value.items())
        lines.append(f"  {key}: {value}")
    return lines


# --- flowapp and the floor, in this process -----------------------------------------


async def flowapp_on(store_url: str, function_url: str, counts: Counts) -> Figures:
    from bench.steps import FAN_OUT, THREE_STEPS, in_flight, one_at_a_time, register, runtime_on
    from flowapp.store import open_store

    store = open_store(store_url)
    store.migrate()
    try:
        async with runtime_on(store, function_url) as runtime:
            three = register(store, THREE_STEPS)
            chain = await one_at_a_time(runtime, three, counts.runs)
            await in_flight(runtime, three, WIDTH, WIDTH)  # warm-up, as the peers get
            rate, _ = await in_flight(runtime, three, counts.total, WIDTH)
            fan = await one_at_a_time(runtime, register(store, FAN_OUT), counts.fan_runs)
    finally:
        store.close()
    return Figures(chain=chain, rate=rate, fan_out=fan)


async def floor(function_url: str, directory: Path, counts: Counts) -> Figures:
    from bench.steps import floor_in_flight, floor_latency

    chain = await floor_latency(function_url, directory, counts.runs)
    rate = await floor_in_flight(function_url, directory, counts.total, WIDTH)
    return Figures(chain=chain, rate=rate)


def echo_headers() -> dict[str, str]:
    """The CloudEvent headers flowapp sends the echo function (the id is set per call)."""
    from flowapp.functions.client import encode_call
    from flowapp.functions.port import FunctionCall

    call = FunctionCall(
        function="echo",
        data=None,
        execution_id="peer",
        task_reference="/do/0",
        attempt=1,
        idempotency_key="peer",
    )
    headers, _ = encode_call(call, app="bench")
    return headers


# --- the suite ----------------------------------------------------------------------


def load_average() -> str:
    """The machine's 1-minute load average: the 2 cores are shared, and figures measured
    one system after another are only comparable while it stays put."""
    return f"{os.getloadavg()[0]:.1f}"


@contextlib.contextmanager
def logs_folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as folder:
        yield Path(folder)


def main() -> list[str]:
    from bench.processes import function_host
    from bench.steps import postgres_database

    counts = Counts.chosen()
    lines = [
        f"runs: chain {counts.runs} one at a time, {counts.total} with {WIDTH} in flight, "
        f"fan-out {counts.fan_runs} (after a warm-up of 20, or {WIDTH} in flight)"
    ]
    columns: list[Column] = []
    configs: list[str] = []
    loads = [f"start {load_average()}"]
    with logs_folder() as logs, function_host() as (url, _), postgres_database() as pg:
        headers = echo_headers()
        columns.append(Column("floor", asyncio.run(floor(url, logs, counts))))
        loads.append(f"floor {load_average()}")
        sqlite_url = f"sqlite:///{logs / 'flowapp.db'}"
        for name, store_url in (("flowapp SQLite", sqlite_url), ("flowapp PostgreSQL", pg)):
            figures = asyncio.run(flowapp_on(store_url, url, counts))
            columns.append(Column(name, figures, "floor", flowapp=True))
            loads.append(f"{name} {load_average()}")
        peers = [
            *PEERS_REDIS,
            Peer("DBOS SQLite", "dbos", DBOS_REQUIREMENTS, "peer_dbos.py",
                 {"database_url": f"sqlite:///{logs / 'dbos.sqlite'}"}),
        ]  # fmt: skip
        with postgres_database() as dbos_pg:
            peers.append(
                Peer("DBOS PostgreSQL", "dbos", DBOS_REQUIREMENTS, "peer_dbos.py",
                     {"database_url": dbos_pg.replace("postgresql://", "postgresql+psycopg://")},
                     compare_with="flowapp PostgreSQL")
            )  # fmt: skip
            for peer in peers:
                figures = measure_peer(peer, url, headers, counts, logs)
                columns.append(Column(peer.name, figures, peer.compare_with))
                configs += config_lines(peer.name, figures, peer.requirements)
                loads.append(f"{peer.name} {load_average()}")
    lines += ["configuration of each peer:", *configs]
    lines += ["load average (1 min) after each: " + ", ".join(loads), ""]
    lines += table(columns)
    lines.append(
        "(in brackets, flowapp's figure divided by the column's: flowapp on SQLite for "
        "Dramatiq, Celery and DBOS SQLite, on PostgreSQL for DBOS PostgreSQL; in flowapp's "
        "columns, flowapp's divided by the floor's. Against a peer, below 1 for latency and "
        "above 1 for executions/s: flowapp is ahead)"
    )
    return lines


if __name__ == "__main__":
    print("\n".join(main()))
