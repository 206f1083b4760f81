"""The runtime's Prometheus series on a real SQLite store: executions and task runs by
app, revision and task, the engine's steps and group commits, what it holds and how
late its timers fire."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from flowapp.engine.testing import workflow_from_yaml
from flowapp.runtime.dispatch import Effects
from flowapp.runtime.metrics import RuntimeMetrics
from flowapp.runtime.registry import LoadedWorkflow, WorkflowRegistry
from flowapp.runtime.runtime import Runtime
from flowapp.store import open_store
from flowapp.store.port import Store

WORKFLOW = {"app": "shop", "revision": "r1", "workflow": "default.orders"}


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = open_store(f"sqlite:///{tmp_path / 'runtime.db'}")
    store.migrate()
    yield store
    store.close()


def register(store: Store, body: str, *, name: str = "orders") -> LoadedWorkflow:
    text = f"document: {{dsl: '1.0.3', namespace: default, name: {name}, version: '1.0.0'}}\n"
    definition = workflow_from_yaml(text + body).definition
    return WorkflowRegistry(store).add(definition, app="shop", revision="r1")


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


async def test_executions_tasks_steps_and_commits_are_counted(store: Store) -> None:
    registry = CollectorRegistry()
    runtime = Runtime(store, metrics=RuntimeMetrics(registry))
    ok = register(store, "do:\n  - pause: {wait: {milliseconds: 200}}\n  - done: {set: {a: 1}}\n")
    failing = register(
        store,
        "do:\n  - check: {raise: {error: {type: validation, status: 400}}}\n",
        name="refunds",
    )
    await runtime.start()
    try:
        waiting = await runtime.start_execution(ok, {})
        assert value(registry, "flowapp_executions_active", app="shop") == 1
        assert value(registry, "flowapp_engine_timers") == 1
        # Every final status shows from the start, so that the first failure is an increase.
        assert (
            value(registry, "flowapp_executions_finished_total", status="faulted", **WORKFLOW) == 0
        )
        faulted = await runtime.start_execution(failing, {})
        assert (await runtime.wait_for(faulted, timeout=10)).status == "faulted"
        assert (await runtime.wait_for(waiting, timeout=10)).status == "completed"
    finally:
        await runtime.stop()

    def finished(status: str, workflow: str = "default.orders") -> float | None:
        labels = WORKFLOW | {"workflow": workflow, "status": status}
        return value(registry, "flowapp_executions_finished_total", **labels)

    assert value(registry, "flowapp_executions_started_total", **WORKFLOW) == 1
    assert (finished("completed"), finished("faulted")) == (1, 0)
    assert finished("faulted", "default.refunds") == 1
    runs = {"task": "/do/0/pause", "status": "completed"} | WORKFLOW
    assert value(registry, "flowapp_task_runs_total", **runs) == 1
    pause = WORKFLOW | {"task": "/do/0/pause"}
    assert value(registry, "flowapp_task_duration_seconds_sum", **pause) >= 0.2
    assert value(registry, "flowapp_executions_active", app="shop") == 0  # none held now
    assert value(registry, "flowapp_engine_timers") == 0
    assert value(registry, "flowapp_engine_timer_lateness_seconds_count") == 1
    # Turns: each start, the timer's, the faulted one's; each committed durably.
    assert value(registry, "flowapp_engine_step_duration_seconds_count", app="shop") >= 3
    commits = value(registry, "flowapp_store_commit_duration_seconds_count")
    assert commits is not None and commits >= 2
    assert value(registry, "flowapp_store_commit_checkpoints_sum") >= 3
    assert value(registry, "flowapp_engine_outbox_backlog") == 0


async def test_task_references_past_the_bound_count_as_other(store: Store) -> None:
    registry = CollectorRegistry()
    runtime = Runtime(store, metrics=RuntimeMetrics(registry, max_tasks=2))
    workflow = register(
        store, "do:\n" + "".join(f"  - t{i}: {{set: {{n: {i}}}}}\n" for i in range(4))
    )
    await runtime.start()
    try:
        for _ in range(2):
            execution_id = await runtime.start_execution(workflow, {})
            assert (await runtime.wait_for(execution_id, timeout=10)).status == "completed"
    finally:
        await runtime.stop()

    def runs(task: str) -> float | None:
        labels = WORKFLOW | {"task": task, "status": "completed"}
        return value(registry, "flowapp_task_runs_total", **labels)

    assert (runs("/do/0/t0"), runs("/do/1/t1"), runs("other")) == (2, 2, 4)
    assert runs("/do/2/t2") is None


async def test_the_outbox_backlog_is_what_the_relay_has_yet_to_carry_out(store: Store) -> None:
    registry = CollectorRegistry()
    released = asyncio.Event()
    published: list[dict[str, Any]] = []

    async def slow_bus(event: dict[str, Any]) -> None:
        await released.wait()
        published.append(event)

    runtime = Runtime(store, effects=Effects(publish=slow_bus), metrics=RuntimeMetrics(registry))
    emitted = register(
        store, "do:\n  - tell: {emit: {event: {with: {source: /t, type: t.done}}}}\n"
    )

    async def backlog(expected: float) -> None:
        for _ in range(250):
            if value(registry, "flowapp_engine_outbox_backlog") == expected:
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"backlog is {value(registry, 'flowapp_engine_outbox_backlog')}")

    await runtime.start()
    try:
        execution_id = await runtime.start_execution(emitted, {})
        assert (await runtime.wait_for(execution_id, timeout=10)).status == "completed"
        await backlog(1)  # committed, held up in the bus
        released.set()
        await backlog(0)
    finally:
        await runtime.stop()
    assert [event["type"] for event in published] == ["t.done"]
