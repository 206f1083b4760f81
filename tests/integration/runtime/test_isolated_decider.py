"""Deciding in worker processes: a decision over its time, out of memory or crashed takes
its own execution down (quarantined, with the reason) and nothing else."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import MappingProxyType

import pytest

from flowapp.engine.scope import Environment
from flowapp.engine.testing import workflow_from_yaml
from flowapp.runtime.deciders.pool import IsolatedDecider, PoolSettings
from flowapp.runtime.registry import WorkflowRegistry
from flowapp.runtime.runtime import Runtime
from flowapp.store import open_store
from flowapp.store.port import Store

QUICK = "do:\n  - hello: {set: {hello: '${ .name }'}}\n"
JQ_BOMB = "do:\n  - bomb: {set: {n: '${ [range(1e8)] | length }'}}\n"
MEMORY_BOMB = "do:\n  - grow: {set: {n: '${ reduce range(40) as $i (\"x\"; . + .) | length }'}}\n"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path / 'runtime.db'}")
    store.migrate()
    yield store
    store.close()


async def running(store: Store, **settings) -> Runtime:
    runtime = Runtime(store, decider=IsolatedDecider(PoolSettings(**settings)))
    await runtime.start()
    return runtime


@pytest.fixture
async def bounded(store: Store) -> AsyncIterator[Runtime]:
    """One worker that may decide for one second."""
    runtime = await running(store, workers=1, decision_seconds=1.0)
    yield runtime
    await runtime.stop()


def register(store: Store, text: str):
    return WorkflowRegistry(store).add(workflow_from_yaml(text).definition)


def deaths(runtime: Runtime) -> dict[str, int]:
    decider = runtime.decider
    assert isinstance(decider, IsolatedDecider)
    return dict(decider.deaths)


async def test_a_decision_over_its_time_faults_its_execution_and_the_others_go_on(
    store: Store, bounded: Runtime
) -> None:
    bomb = await bounded.start_execution(register(store, JQ_BOMB), {})
    quick = register(store, QUICK)
    # Started while the bomb holds the only worker: queued behind it, then re-sent.
    others = [
        asyncio.create_task(bounded.start_execution(quick, {"name": f"n{i}"})) for i in range(3)
    ]
    outcome = await bounded.wait_for(bomb, timeout=30)
    assert outcome.status == "faulted"
    error = outcome.error
    assert error["status"] == 429 and error["limit"] == "decisionTime"
    assert "longer than 1 s" in error["detail"]
    for started in others:
        done = await bounded.wait_for(await started, timeout=30)
        assert done.status == "completed"
    assert deaths(bounded) == {"decisionTime": 1}
    later = await bounded.start_execution(quick, {"name": "later"})  # the standby took over
    assert (await bounded.wait_for(later, timeout=30)).output == {"hello": "later"}
    assert store.get_execution(bomb).status == "faulted"


async def test_the_turn_over_its_time_is_found_among_a_batch_whose_answers_were_held(
    store: Store, bounded: Runtime
) -> None:
    """Turns asked for in one round reach the worker in one batch, whose answers it holds
    until the batch is decided: the quick turn before the bomb is decided but unanswered
    when the worker is stopped. The bomb is the one faulted (the worker noted it was on
    it), and the quick ones are decided again by the standby."""
    quick, bomb = register(store, QUICK), register(store, JQ_BOMB)
    started = await asyncio.gather(
        bounded.start_execution(quick, {"name": "before"}),
        bounded.start_execution(bomb, {}),
        bounded.start_execution(quick, {"name": "after"}),
    )
    before, bombed, after = [await bounded.wait_for(i, timeout=30) for i in started]
    assert bombed.status == "faulted" and bombed.error["limit"] == "decisionTime"
    assert before.output == {"hello": "before"} and after.output == {"hello": "after"}
    assert deaths(bounded) == {"decisionTime": 1}


async def test_a_decision_out_of_memory_faults_with_the_memory_limit(store: Store) -> None:
    runtime = await running(store, workers=1, decision_seconds=60, memory_bytes=256 << 20)
    try:
        execution_id = await runtime.start_execution(register(store, MEMORY_BOMB), {})
        outcome = await runtime.wait_for(execution_id, timeout=60)
        quick = await runtime.start_execution(register(store, QUICK), {"name": "after"})
        assert (await runtime.wait_for(quick, timeout=30)).status == "completed"
    finally:
        await runtime.stop()
    assert outcome.status == "faulted"
    assert outcome.error["limit"] == "memory" and "256 MiB" in outcome.error["detail"]
    assert deaths(runtime) == {"memory": 1}


async def test_a_decider_killed_from_outside_quarantines_the_execution_it_was_deciding(
    store: Store,
) -> None:
    runtime = await running(store, workers=1, decision_seconds=60)
    try:
        starting = asyncio.create_task(runtime.start_execution(register(store, JQ_BOMB), {}))
        decider = runtime.decider
        assert isinstance(decider, IsolatedDecider)
        while not any(w is not None and w.inflight for w in decider._workers):
            await asyncio.sleep(0.01)  # its first turn is being decided
        worker = next(w for w in decider._workers if w is not None and w.inflight)
        os.kill(worker.process.pid, signal.SIGKILL)  # as the kernel's OOM killer would
        outcome = await runtime.wait_for(await starting, timeout=30)
    finally:
        await runtime.stop()
    assert outcome.status == "faulted" and outcome.error["title"] == "Execution quarantined"
    assert "SIGKILL" in outcome.error["detail"] and "not run again" in outcome.error["detail"]
    assert deaths(runtime) == {"SIGKILL": 1}


async def test_a_decider_stopped_with_its_process_group_goes_on_deciding(store: Store) -> None:
    """SIGINT and SIGTERM (a Ctrl-C, a stop of the group) do not kill a turn midway."""
    runtime = await running(store, workers=1)
    try:
        decider = runtime.decider
        assert isinstance(decider, IsolatedDecider)
        quick = register(store, QUICK)
        await runtime.wait_for(await runtime.start_execution(quick, {"name": "a"}), timeout=30)
        worker = next(w for w in decider._workers if w is not None)
        os.kill(worker.process.pid, signal.SIGTERM)
        os.kill(worker.process.pid, signal.SIGINT)
        again = await runtime.start_execution(quick, {"name": "b"})
        assert (await runtime.wait_for(again, timeout=30)).status == "completed"
        assert worker.process.returncode is None and deaths(runtime) == {}
    finally:
        await runtime.stop()


async def test_an_app_s_read_only_secrets_reach_the_worker(store: Store) -> None:
    """The secrets of an app are a read-only mapping: they cross as JSON all the same."""
    runtime = Runtime(
        store,
        decider=IsolatedDecider(PoolSettings(workers=1, standby=False)),
        env=Environment(secrets=MappingProxyType({"token": {"value": "s3cret"}})),
    )
    await runtime.start()
    try:
        text = "use: {secrets: [token]}\ndo:\n  - read: {set: {t: '${ $secrets.token.value }'}}\n"
        execution_id = await runtime.start_execution(register(store, text), {})
        outcome = await runtime.wait_for(execution_id, timeout=30)
    finally:
        await runtime.stop()
    assert outcome.status == "completed" and outcome.output == {"t": "s3cret"}
