"""What one function call costs on this machine, and what the supervisor adds to it.

Runs a trivial Python function (``return data``) and measures sequential round trips:

(a) direct: a pooled aiohttp session POSTs a pre-encoded binary-mode CloudEvent straight
    to the host and reads the reply body (transport + host, nothing else);
(b) supervisor: ``Supervisor.call`` (encode, route to an instance, POST, decode the reply
    CloudEvent, metrics) to the same host process.

Usage: ``.venv/bin/python bench/function_overhead.py [--calls 3000] [--async]`` or
``python -m bench function_overhead``.

``--runtimes python,node,java,go`` compares the hosts instead: the same trivial function
(``return data``) in each language, and for each

- build: the first build of its folder (javac; go build with a warm build cache);
- cold start: a fresh process of the prepared function, from spawn to its first ``200``
  on ``/healthz`` (polled every 2 ms), the median of ``--starts`` starts;
- calls: sequential ``Supervisor.call`` round trips after a warm-up of 300 calls (the
  JVM's JIT included), alternating runtimes in batches so machine load hits all alike.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

import aiohttp
from prometheus_client import CollectorRegistry

from flowapp.functions.client import encode_call
from flowapp.functions.instance import free_port
from flowapp.functions.launch import Launcher, prepare
from flowapp.functions.port import FunctionCall
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
    call = FunctionCall(
        function="trivial", data=INPUT, execution_id="e", task_reference="/do/0/trivial",
        attempt=1, idempotency_key="k",
    )  # fmt: skip
    headers, body = encode_call(call, app="bench")
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
                return await supervisor.call(call)

            calls = {"(a) direct, pooled client": direct, "(b) Supervisor.call": supervised}
            return await measure(calls, total)


TRIVIAL = {
    "python": {"main.py": SYNC},
    "node": {"index.js": "exports.handle = (data, context) => data;\n"},
    "java": {
        "src/main/java/Trivial.java": (
            "import dev.flowapp.Context;\nimport dev.flowapp.Handler;\n\n"
            "public class Trivial implements Handler {\n"
            "    public Object handle(Object data, Context context) { return data; }\n}\n"
        )
    },
    "go": {
        "go.mod": "module trivial\n\ngo 1.21\n",
        "main.go": (
            'package main\n\nimport "trivial/flowapp"\n\n'
            "func Handle(ctx flowapp.Context, data any) (any, error) { return data, nil }\n"
        ),
    },
}


def write_trivial(root: Path, runtime: str) -> Path:
    folder = root / runtime
    for relative, text in TRIVIAL[runtime].items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text)
    return folder


async def cold_starts(launcher: Launcher, starts: int) -> list[float]:
    """Seconds from spawning a prepared instance to its first healthy answer."""
    seconds = []
    async with aiohttp.ClientSession() as session:
        for _ in range(starts):
            port = free_port()
            spawn = launcher.launch(port)
            url = f"http://127.0.0.1:{port}/healthz"
            started = time.perf_counter()
            process = subprocess.Popen(
                spawn.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                **spawn.popen_args(),
            )  # fmt: skip
            try:
                while True:
                    try:
                        async with session.get(url) as response:
                            if response.status == 200:
                                break
                    except aiohttp.ClientError:
                        pass
                    if process.poll() is not None:
                        raise RuntimeError(f"{launcher.spec.name} exited {process.returncode}")
                    await asyncio.sleep(0.002)
                seconds.append(time.perf_counter() - started)
            finally:
                process.terminate()
                process.wait(10)
    return seconds


async def compare(runtimes: list[str], total: int, starts: int) -> list[str]:
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        specs, builds, starts_of = [], {}, {}
        for runtime in runtimes:
            folder = write_trivial(Path(tmp), runtime)
            spec = FunctionSpec(runtime, runtime, folder)  # type: ignore[arg-type]
            started = time.perf_counter()
            launcher = await asyncio.to_thread(prepare, spec, app="bench", grace_period=5)
            builds[runtime] = time.perf_counter() - started
            starts_of[runtime] = await cold_starts(launcher, starts)
            specs.append(spec)
        registry = CollectorRegistry()
        async with Supervisor(specs, app="bench", registry=registry) as supervisor:

            def caller(name: str) -> Call:
                async def call() -> object:
                    return await supervisor.call(
                        FunctionCall(
                            function=name, data=INPUT, execution_id="e",
                            task_reference=f"/do/0/{name}", attempt=1, idempotency_key="k",
                        )
                    )  # fmt: skip

                return call

            samples = await measure({r: caller(r) for r in runtimes}, total)
    lines.append(
        f"{'runtime':<8} {'build':>8} {'cold start p50':>15} {'min':>7} {'max':>7}"
        f" {'call p50':>9} {'p99':>8}"
    )
    for runtime in runtimes:
        ordered = sorted(starts_of[runtime])
        calls = sorted(samples[runtime])
        lines.append(
            f"{runtime:<8} {builds[runtime]:7.2f}s {ordered[len(ordered) // 2] * 1e3:12.0f} ms"
            f" {ordered[0] * 1e3:5.0f}ms {ordered[-1] * 1e3:5.0f}ms"
            f" {calls[len(calls) // 2] * 1e6:6.0f} us {calls[int(len(calls) * 0.99)] * 1e6:5.0f} us"
        )
    return lines


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


def main_runtimes(runtimes: list[str], calls: int = 3000, starts: int = 7) -> list[str]:
    header = f"{calls} sequential Supervisor.call round trips per runtime, {os.cpu_count()} CPUs"
    return [header, *asyncio.run(compare(runtimes, calls, starts))]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--async", dest="use_async", action="store_true", help="async handler")
    parser.add_argument("--runtimes", help="compare hosts, e.g. python,node,java,go")
    parser.add_argument("--starts", type=int, default=7, help="cold starts per runtime")
    args = parser.parse_args()
    if args.runtimes:
        print("\n".join(main_runtimes(args.runtimes.split(","), args.calls, args.starts)))
    else:
        print("\n".join(main(args.calls, use_async=args.use_async)))
