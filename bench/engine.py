"""The pure engine and the in-process run, without I/O to functions.

- pure-task throughput: a 10-step ``set`` workflow decided start to end, tasks/s;
- expression evaluation cost: one compiled jq program on a small input, and compilation;
- the latency of a 3-step ``set`` workflow run in-process like ``flowapp run`` does
  (runtime, group commit to SQLite, task runs recorded).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import jq

from bench.stats import latency_line
from flowapp.dsl.expressions import compile_expression
from flowapp.engine import decide, new_state
from flowapp.engine.signals import Start
from flowapp.engine.testing import workflow_from_yaml
from flowapp.runtime.embedded import run_to_completion
from flowapp.runtime.registry import WorkflowRegistry
from flowapp.store import open_store


def _set_steps(count: int) -> str:
    lines = [f"  - s{i}: {{set: {{n: '${{ .n + 1 }}', step: {i}}}}}" for i in range(count)]
    return (
        "document: {dsl: '1.0.3', namespace: bench, name: sets, version: '1.0.0'}\ndo:\n"
        + "\n".join(lines)
        + "\n"
    )


def pure_throughput(executions: int = 3000) -> str:
    workflow = workflow_from_yaml(_set_steps(10))
    decide(workflow, new_state("warm"), Start({"n": 0}), 0.0)
    started = time.perf_counter()
    for index in range(executions):
        decision = decide(workflow, new_state(f"e{index}"), Start({"n": 0}), 0.0)
        assert decision.state.output["n"] == 10
    elapsed = time.perf_counter() - started
    tasks = executions * 10
    rate = tasks / elapsed
    per_task = elapsed / tasks * 1e6
    return f"pure set tasks: {rate:,.0f} tasks/s ({per_task:.1f} µs per task; target >= 20,000)"


def expression_cost(evaluations: int = 50_000) -> str:
    expression = compile_expression('.colors + ["red"]')
    value = {"colors": ["blue", "green"]}
    started = time.perf_counter()
    for _ in range(evaluations):
        expression.evaluate(value)
    per_evaluation = (time.perf_counter() - started) / evaluations
    started = time.perf_counter()
    for index in range(200):
        jq.compile(f'.colors + ["red{index}"]')
    per_compile = (time.perf_counter() - started) / 200
    return (
        f"expression: {per_evaluation * 1e6:.1f} µs per evaluation, "
        f"{per_compile * 1e6:.0f} µs per compilation ({per_compile / per_evaluation:.0f}x)"
    )


async def _run_latency(runs: int) -> list[float]:
    with tempfile.TemporaryDirectory() as directory:
        store = open_store(f"sqlite:///{Path(directory) / 'bench.db'}")
        store.migrate()
        registry = WorkflowRegistry(store)
        workflow = registry.add(workflow_from_yaml(_set_steps(3)).definition)
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            _, outcome = await run_to_completion(store, registry, workflow, {"n": 0})
            samples.append(time.perf_counter() - started)
            assert outcome.status == "completed"
        store.close()
        return samples


def run_latency(runs: int = 200) -> str:
    samples = asyncio.run(_run_latency(runs))
    return latency_line(
        "3-step set workflow run in-process (runtime start, run, SQLite commit)", samples
    )


def main() -> list[str]:
    return [pure_throughput(), expression_cost(), run_latency()]
