"""What deciding in worker processes costs, against deciding in process.

``flowapp up`` decides in a pool of worker processes (so that a runaway expression can be
killed), ``flowapp run`` and ``flowapp dev`` in process. Side by side:
- the seam alone: one turn (a function's answer decided, the next call issued) through
  each decider, without a store or a function, CPU and latency per turn;
- on SQLite, with a 3-step workflow whose steps call a trivial function (a real process):
- latency, one execution at a time;
- throughput with 50 in flight, and the CPU per step of the engine: the server process
  plus, for the pool, its worker processes;
- the pure engine's share: an endless ``then:`` loop of ``set`` tasks until its
  ``taskRuns`` limit (25,000 task runs), wall time and CPU per task run.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.processes import cpu_seconds, function_host
from bench.stats import latency_line, percentile
from bench.steps import THREE_STEPS, one_at_a_time, register, runtime_on
from flowapp.engine import new_state
from flowapp.engine.scope import Environment
from flowapp.engine.signals import EffectSucceeded, Start
from flowapp.engine.testing import workflow_from_yaml
from flowapp.runtime.deciders.base import Decider, TurnRequest
from flowapp.runtime.deciders.inprocess import InProcessDecider
from flowapp.runtime.deciders.pool import IsolatedDecider, PoolSettings
from flowapp.runtime.registry import WorkflowRegistry
from flowapp.runtime.runtime import Runtime
from flowapp.store import open_store

FOREVER = "do:\n  - spin:\n      set: {n: '${ .n + 1 }'}\n      then: spin\n"

DECIDERS: dict[str, Callable[[], Decider]] = {
    "in-process": InProcessDecider,
    "isolated, 2 workers": lambda: IsolatedDecider(PoolSettings(workers=2)),
}


def engine_cpu(runtime: Runtime) -> float:
    """CPU seconds of this process and of the decider's worker processes so far."""
    total = time.process_time()
    decider = runtime.decider
    if isinstance(decider, IsolatedDecider):
        total += sum(cpu_seconds(pid) for pid in decider.worker_pids())
    return total


async def wait_ready(runtime: Runtime) -> None:
    decider = runtime.decider
    if isinstance(decider, IsolatedDecider):
        while len(decider.worker_pids()) < decider.settings.workers:
            await asyncio.sleep(0.05)


async def seam(decider: Decider, turns: int) -> tuple[float, float]:
    """(µs of CPU, µs of latency) per turn: Start, then each call answered in turn."""
    registry = WorkflowRegistry()
    text = THREE_STEPS.replace("- s3: {call: echo}", "- s3: {call: echo, then: s1}")
    definition = workflow_from_yaml(text, app_functions=frozenset({"echo"})).definition
    workflow = registry.add(definition, app_functions=frozenset({"echo"}))
    env = Environment()
    await decider.start()
    try:
        state = new_state("seam")
        turn = await decider.decide(TurnRequest(workflow, state, [Start({"steps": 0})], 0.0, env))
        for _ in range(50):  # warm-up: the worker builds the workflow once
            state, turn = await _answer(decider, workflow, turn, env)
        cpu = _cpu(decider)
        started = time.perf_counter()
        for _ in range(turns):
            state, turn = await _answer(decider, workflow, turn, env)
        elapsed = time.perf_counter() - started
        return (_cpu(decider) - cpu) / turns * 1e6, elapsed / turns * 1e6
    finally:
        await decider.close()


async def _answer(decider: Decider, workflow: Any, turn: Any, env: Environment) -> Any:
    (call,) = [c for d in turn.decisions for c in d.commands if c.kind == "call-function"]
    answer = EffectSucceeded(call.effect_id, {"steps": 1})
    turn = await decider.decide(TurnRequest(workflow, turn.state, [answer], 1.0, env))
    return turn.state, turn


def _cpu(decider: Decider) -> float:
    total = time.process_time()
    if isinstance(decider, IsolatedDecider):
        total += sum(cpu_seconds(pid) for pid in decider.worker_pids())
    return total


async def seam_lines(turns: int) -> list[str]:
    lines = []
    for name, make in DECIDERS.items():
        decider = make()
        if isinstance(decider, IsolatedDecider):
            decider = IsolatedDecider(PoolSettings(workers=1, standby=False))
            await decider.start()
            while not decider.worker_pids():
                await asyncio.sleep(0.05)
            await decider.close()  # started once to warm the import caches
            decider = IsolatedDecider(PoolSettings(workers=1, standby=False))
        cpu, latency = await seam(decider, turns)
        lines.append(
            f"one turn through the decider alone, {name}: {cpu:.0f} µs CPU, "
            f"{latency:.0f} µs latency"
        )
    return lines


async def throughput(runtime: Runtime, total: int, width: int) -> tuple[float, float]:
    workflow = register(runtime.store, THREE_STEPS)
    gate = asyncio.Semaphore(width)

    async def one() -> None:
        async with gate:
            execution_id = await runtime.start_execution(workflow, {"steps": 0})
            outcome = await runtime.wait_for(execution_id, timeout=60)
            assert outcome.status == "completed", outcome

    cpu = engine_cpu(runtime)
    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(total)))
    elapsed = time.perf_counter() - started
    return total / elapsed, (engine_cpu(runtime) - cpu) / (total * 3)


async def endless_loop(runtime: Runtime) -> tuple[float, float, int]:
    workflow = WorkflowRegistry(runtime.store).add(workflow_from_yaml(FOREVER).definition)
    cpu = engine_cpu(runtime)
    started = time.perf_counter()
    execution_id = await runtime.start_execution(workflow, {"n": 0})
    outcome = await runtime.wait_for(execution_id, timeout=300)
    assert outcome.status == "faulted" and outcome.error, outcome
    runs = runtime.store.task_runs(execution_id)
    return time.perf_counter() - started, engine_cpu(runtime) - cpu, len(runs)


async def suite(url: str, directory: Path, name: str, lines: list[str], quick: bool) -> None:
    runs, total = (100, 500) if quick else (300, 2000)
    store = open_store(f"sqlite:///{directory / (name.split(',')[0] + '.db')}")
    store.migrate()
    async with runtime_on(store, url, DECIDERS[name]()) as runtime:
        await wait_ready(runtime)
        latency = await one_at_a_time(runtime, register(store, THREE_STEPS), runs)
        lines.append(latency_line(f"3-step, one at a time, {name}", latency))
        rate, per_step = await throughput(runtime, total, 50)
        lines.append(
            f"3-step, 50 in flight, {name}: {rate:,.0f} executions/s, "
            f"engine CPU {per_step * 1000:.3f} ms per step (p50 latency above "
            f"{percentile(latency, 0.5) * 1000:.2f} ms)"
        )
        elapsed, cpu, count = await endless_loop(runtime)
        lines.append(
            f"endless then-loop to its taskRuns limit, {name}: {count:,} task runs in "
            f"{elapsed:.2f} s, engine CPU {cpu / count * 1e6:.0f} µs per task run"
        )
    store.close()


def main() -> list[str]:
    quick = os.environ.get("BENCH_QUICK") == "1"
    lines: list[str] = []
    lines += asyncio.run(seam_lines(1000 if quick else 5000))
    with tempfile.TemporaryDirectory() as temporary, function_host() as (url, _):
        for name in DECIDERS:
            asyncio.run(suite(url, Path(temporary), name, lines, quick))
    return lines
