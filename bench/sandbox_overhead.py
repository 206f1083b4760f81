"""What the sandbox costs: a function call, a cold start, a ``run: shell`` process.

Each figure is measured twice, unconfined (``--sandbox off``) and in the bubblewrap
sandbox ``flowapp up`` uses (a user per app, namespaces, limits), alternating the two in
rounds so that load from other processes on the machine hits both alike:

- call: sequential ``Supervisor.call`` round trips to a trivial function (``return
  data``), Python and Node.js; the sandbox adds no hop (the supervisor talks to the
  function over loopback either way), so this should not move;
- cold start: from spawning an instance to its first ``/healthz`` 200 (what a call after
  scale-to-zero waits for), Python and Node.js;
- process: one ``run: shell`` of ``true``, start to answer.

Usage: ``.venv/bin/python bench/sandbox_overhead.py [--calls 2000] [--starts 12]`` or
``python -m bench sandbox_overhead``. Needs root and bubblewrap for the sandboxed half.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

from flowapp.engine.commands import RunProcess
from flowapp.functions.instance import Instance, free_port
from flowapp.functions.launch import prepare
from flowapp.functions.logs import LogStore
from flowapp.functions.port import FunctionCall
from flowapp.functions.spec import FunctionSpec
from flowapp.functions.supervisor import Supervisor
from flowapp.runtime.effects.process import ProcessEffects
from flowapp.sandbox import Sandbox, SandboxSettings, SandboxUnavailable, open_sandbox

PYTHON = "def handle(data, context):\n    return data\n"
NODE = "exports.handle = async (data) => data;\n"
INPUT = {"order": 42, "items": ["a", "b"], "note": "trivial"}
RUNTIMES = {"python": ("main.py", PYTHON), "node": ("index.js", NODE)}


def function_folder(root: Path, runtime: str) -> Path:
    folder = root / "revisions" / "bench-00001" / "functions" / runtime
    folder.mkdir(parents=True)
    name, code = RUNTIMES[runtime]
    (folder / name).write_text(code)
    return folder


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def calls(folder: Path, runtime: str, sandboxes: dict[str, Sandbox], total: int) -> dict:
    spec = FunctionSpec(runtime, runtime, folder)  # type: ignore[arg-type]
    supervisors = {
        mode: Supervisor([spec], app="bench", sandbox=sandbox)
        for mode, sandbox in sandboxes.items()
    }
    samples: dict[str, list[float]] = {mode: [] for mode in supervisors}
    try:
        for supervisor in supervisors.values():
            await supervisor.start()

        async def one(supervisor: Supervisor) -> None:
            await supervisor.call(
                FunctionCall(
                    function=runtime, data=INPUT, execution_id="e", task_reference="/do/0/f",
                    attempt=1, idempotency_key="k",
                )
            )  # fmt: skip

        await alternate({m: (lambda s=s: one(s)) for m, s in supervisors.items()}, samples, total)
    finally:
        for supervisor in supervisors.values():
            await supervisor.stop()
    return samples


async def cold_starts(folder: Path, runtime: str, sandboxes: dict[str, Sandbox], n: int) -> dict:
    spec = FunctionSpec(runtime, runtime, folder)  # type: ignore[arg-type]
    launchers = {
        mode: prepare(spec, app="bench", grace_period=1, sandbox=s) for mode, s in sandboxes.items()
    }
    samples: dict[str, list[float]] = {mode: [] for mode in launchers}
    async with aiohttp.ClientSession() as session:

        async def start(mode: str) -> None:
            port = free_port()
            instance = Instance(id="bench", function=runtime, port=port, logs=LogStore())
            await instance.start(launchers[mode].launch(port), session=session, timeout=30)
            await instance.terminate(grace=0)

        await alternate({m: (lambda m=m: start(m)) for m in launchers}, samples, n, warmup=1)
    return samples


async def processes(sandboxes: dict[str, Sandbox], n: int) -> dict:
    command = RunProcess(
        effect_id="e", process="shell", language=None, code="true", arguments=[],
        environment={}, stdin=None,
    )  # fmt: skip
    effects = {mode: ProcessEffects(sandbox=sandbox) for mode, sandbox in sandboxes.items()}
    samples: dict[str, list[float]] = {mode: [] for mode in effects}
    await alternate(
        {m: (lambda e=e: e.run(command, app="bench")) for m, e in effects.items()}, samples, n
    )
    return samples


async def alternate(
    work: dict[str, Callable[[], Awaitable[object]]],
    samples: dict[str, list[float]],
    total: int,
    *,
    rounds: int = 6,
    warmup: int = 20,
) -> None:
    for call in work.values():
        for _ in range(min(warmup, total)):
            await call()
    per_round = max(1, total // rounds)
    for _ in range(rounds):
        for mode, call in work.items():
            for _ in range(per_round):
                started = time.perf_counter()
                await call()
                samples[mode].append(time.perf_counter() - started)


def report(title: str, samples: dict[str, list[float]], unit: float, suffix: str) -> list[str]:
    lines = [title]
    p50s = {}
    for mode, values in samples.items():
        p50, p99 = percentiles(values)
        p50s[mode] = p50
        lines.append(
            f"  {mode:<10} p50 {p50 * unit:8.2f} {suffix}   p99 {p99 * unit:8.2f} {suffix}"
        )
    if len(p50s) == 2:
        lines.append(f"  {'cost':<10} p50 {(p50s['bwrap'] - p50s['off']) * unit:+8.2f} {suffix}")
    return lines


async def run(total: int, starts: int) -> list[str]:
    root = Path(tempfile.mkdtemp(prefix="flowapp-bench-"))
    try:
        sandboxes: dict[str, Sandbox] = {"off": Sandbox("off")}
        try:
            confined, _ = open_sandbox(SandboxSettings(mode="bwrap", hidden=(root,)))
            sandboxes["bwrap"] = confined
        except SandboxUnavailable as exc:
            note = f"(no sandboxed figures: {exc})"
        else:
            note = f"(sandbox: {confined.description()})"
        lines = [note]
        for runtime in RUNTIMES:
            if runtime == "node" and shutil.which("node") is None:
                continue
            folder = function_folder(root, runtime)
            title = f"call, {runtime}: {total} sequential Supervisor.call"
            lines += report(title, await calls(folder, runtime, sandboxes, total), 1e3, "ms")
            title = f"cold start, {runtime}: spawn to /healthz, {starts} each"
            lines += report(title, await cold_starts(folder, runtime, sandboxes, starts), 1e3, "ms")
        lines += report(
            f"run: shell `true`, {starts * 4} each",
            await processes(sandboxes, starts * 4),
            1e3,
            "ms",
        )
        return lines
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main(calls: int = 2000, starts: int = 12) -> list[str]:
    """The report's lines (``python -m bench sandbox_overhead`` calls this)."""
    return [f"{os.cpu_count()} CPUs", *asyncio.run(run(calls, starts))]


if __name__ == "__main__":
    from bench.machine import describe

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--starts", type=int, default=12)
    args = parser.parse_args()
    print(describe())
    print("\n".join(main(args.calls, args.starts)))
