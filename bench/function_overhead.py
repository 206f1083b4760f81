"""What one function call costs on this machine, and what the supervisor adds to it.

Runs a trivial Python function (``return data``) and measures sequential round trips:

(a) direct: a pooled aiohttp session POSTs a pre-encoded binary-mode CloudEvent straight
    to the host and reads the reply body (transport + host, nothing else);
(b) supervisor: ``Supervisor.call`` (encode, route to an instance, POST, decode the reply
    CloudEvent, metrics) to the same host process.

Usage: ``.venv/bin/python bench/function_overhead.py [--calls 3000] [--async]`` or
``python -m bench function_overhead``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

import aiohttp
from prometheus_client import CollectorRegistry

from flowapp.functions.client import encode_call
from flowapp.functions.spec import FunctionSpec
from flowapp.functions.supervisor import Supervisor

SYNC = "def handle(data, context):\n    return data\n"
ASYNC = "async def handle(data, context):\n    return data\n"
INPUT = {"order": 42, "items": ["a", "b"], "note": "trivial"}


Call = Callable[[], Awaitable[object]]


async def measure(
    calls: Mapping[str, Call], total: int, *, rounds: int = 10
) -> dict[str, list[float]]:
    """Time ``total`` sequential calls of each kind, alternating kinds in ``rounds``
    batches so that load from other processes on the machine hits both alike."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for call in calls.values():
        for _ in range(min(300, total)):  # warm up connections, caches, the thread pool
            await call()
    for _ in range(rounds):
        for name, call in calls.items():
            for _ in range(total // rounds):
                started = time.perf_counter()
                await call()
                samples[name].append(time.perf_counter() - started)
    return samples


async def run(folder: Path, total: int) -> dict[str, list[float]]:
    headers, body = encode_call(
        app="bench", function="trivial", data=INPUT, execution_id="e",
        task_reference="/do/0/trivial", attempt=1, idempotency_key="k",
    )  # fmt: skip
    spec = FunctionSpec("trivial", "python", folder)
    registry = CollectorRegistry()
    async with Supervisor([spec], app="bench", registry=registry) as supervisor:
        # Both paths reach the same host process, so only the supervisor's work differs.
        (url,) = supervisor.status()["trivial"].urls
        async with aiohttp.ClientSession() as session:

            async def direct() -> bytes:
                async with session.post(url, data=body, headers=headers) as response:
                    return await response.read()

            async def supervised() -> object:
                return await supervisor.call(
                    "trivial", INPUT, execution_id="e", task_reference="/do/0/trivial",
                    attempt=1, idempotency_key="k",
                )  # fmt: skip

            calls = {"(a) direct, pooled client": direct, "(b) Supervisor.call": supervised}
            return await measure(calls, total)


def summary(name: str, samples: list[float]) -> tuple[str, float, float]:
    ordered = sorted(samples)
    p50 = ordered[len(ordered) // 2] * 1e6
    p99 = ordered[int(len(ordered) * 0.99)] * 1e6
    mean = statistics.fmean(ordered) * 1e6
    line = f"{name:<28} p50 {p50:7.0f} us   p99 {p99:7.0f} us   mean {mean:7.0f} us"
    return line, p50, p99


def main(calls: int = 3000, *, use_async: bool = False) -> list[str]:
    """The report's lines (``python -m bench function_overhead`` calls this)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "trivial"
        folder.mkdir()
        (folder / "main.py").write_text(ASYNC if use_async else SYNC)
        results = asyncio.run(run(folder, calls))
    (direct, direct_p50, direct_p99), (supervised, super_p50, super_p99) = [
        summary(name, samples) for name, samples in results.items()
    ]
    kind = "async" if use_async else "sync"
    return [
        f"{calls} sequential calls of a trivial {kind} Python function, {os.cpu_count()} CPUs",
        direct,
        supervised,
        f"{'supervisor overhead':<28} p50 {super_p50 - direct_p50:7.0f} us   "
        f"p99 {super_p99 - direct_p99:7.0f} us",
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--async", dest="use_async", action="store_true", help="async handler")
    args = parser.parse_args()
    print("\n".join(main(args.calls, use_async=args.use_async)))
