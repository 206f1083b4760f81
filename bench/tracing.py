"""The step benchmark with tracing off and on (``python -m bench tracing``).

The 3-step workflow of ``steps.py`` (each step a call to a real function process) on
SQLite, one at a time and with 50 in flight, three ways in one run:

- off: ``OTEL_EXPORTER_OTLP_ENDPOINT`` unset, no ``Tracing`` at all;
- on: every execution and task run a span, exported with OTLP/HTTP to a local collector
  stand-in in its own process (``otlp_sink.py``), function calls carrying ``traceparent``;
- on, unreachable collector: the same, exporting to a port nobody listens on (spans are
  dropped and counted; executions must not notice).

The function host itself exports nothing here: this measures the engine's share.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry

from bench.processes import _stop, _wait_healthy, free_port, function_host
from bench.stats import latency_line, percentile
from bench.steps import THREE_STEPS, in_flight, one_at_a_time, register, throughput_line
from flowapp.functions.remote import RemoteFunctions
from flowapp.runtime.dispatch import Effects
from flowapp.runtime.effects.functions import FunctionEffects
from flowapp.runtime.runtime import Runtime
from flowapp.runtime.tracing import Tracing
from flowapp.store import open_store
from flowapp.store.port import Store


@contextlib.contextmanager
def otlp_sink() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.otlp_sink", str(port)],
        start_new_session=True,
        cwd=Path(__file__).parent.parent,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, process)
        yield url
    finally:
        _stop(process)


def tracing_to(endpoint: str | None, registry: CollectorRegistry) -> Tracing | None:
    if endpoint is None:
        return None
    from flowapp.runtime.otlp import OTLPExporter

    exporter = OTLPExporter(endpoint=f"{endpoint}/v1/traces", timeout=1)
    return Tracing(exporter, registry=registry)


@contextlib.asynccontextmanager
async def runtime_with(store: Store, url: str, tracing: Tracing | None) -> AsyncIterator[Runtime]:
    remote = RemoteFunctions({"echo": url}, app="bench")
    effects = Effects(functions=FunctionEffects(remote))
    runtime = Runtime(store, effects=effects, owner="bench", tracing=tracing)
    await runtime.start(recover=False)
    try:
        yield runtime
    finally:
        await runtime.stop()
        await remote.close()


def _counted(registry: CollectorRegistry) -> str:
    exported = registry.get_sample_value("flowapp_trace_spans_exported_total") or 0
    dropped = registry.get_sample_value("flowapp_trace_spans_dropped_total") or 0
    return f"spans exported {exported:,.0f}, dropped {dropped:,.0f}"


def quiet() -> None:
    # as Tracing.from_environment does: the unreachable run would log every batch
    logging.getLogger("opentelemetry.exporter").setLevel(logging.CRITICAL)
    logging.getLogger("flowapp.runtime.tracing").setLevel(logging.ERROR)


async def suite(url: str, sink: str, directory: Path, lines: list[str], quick: bool) -> None:
    quiet()
    runs, total = (100, 500) if quick else (300, 2000)
    nowhere = f"http://127.0.0.1:{free_port()}"
    ways = (("off", None), ("on", sink), ("on, unreachable collector", nowhere))
    baseline = None
    for name, endpoint in ways:
        store = open_store(f"sqlite:///{directory / (name.replace(' ', '_') + '.db')}")
        store.migrate()
        registry = CollectorRegistry()
        async with runtime_with(store, url, tracing_to(endpoint, registry)) as runtime:
            three = register(store, THREE_STEPS)
            latency = await one_at_a_time(runtime, three, runs)
            rate, cpu = await in_flight(runtime, three, total, 50)
        store.close()
        p50 = percentile(latency, 0.5)
        baseline = baseline or p50
        line = latency_line(f"tracing {name}: 3-step, one at a time, SQLite", latency)
        lines.append(line + f"; {p50 / baseline:.2f}x off's p50")
        throughput = throughput_line(f"tracing {name}: 3-step, 50 in flight", rate, 3, cpu, total)
        counted = f"; {_counted(registry)}" if endpoint else ""
        lines.append(throughput + counted)


def main() -> list[str]:
    quick = os.environ.get("BENCH_QUICK") == "1"
    lines: list[str] = []
    with (
        tempfile.TemporaryDirectory() as temporary,
        function_host() as (url, _),
        otlp_sink() as sink,
    ):
        asyncio.run(suite(url, sink, Path(temporary), lines, quick))
    return lines
