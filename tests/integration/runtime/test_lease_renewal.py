"""A lease round runs on the writer thread while executions start and end on the event
loop: its answer must not make the runtime forget an execution that started meanwhile
(its caller then waited a whole round, until the execution was adopted again), nor adopt
one that ended meanwhile.

The round is held open on purpose (the store answers only when the test says so), so the
race happens every time instead of once in a few thousand executions."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flowapp.engine.testing import workflow_from_yaml
from flowapp.functions.testing import FakeFunctions
from flowapp.runtime.dispatch import Effects
from flowapp.runtime.effects.functions import FunctionEffects
from flowapp.runtime.registry import LoadedWorkflow, WorkflowRegistry
from flowapp.runtime.runtime import Runtime
from flowapp.store import open_store
from flowapp.store.port import Store

CALL = "do:\n  - append: {call: append}\n"
ROUND = 5.0  # generous: each wait below normally takes milliseconds


class HeldRenewal:
    """A store whose ``renew_leases`` has renewed, then answers only once released."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.renewed = threading.Event()
        self.release = threading.Event()
        self.loads = 0

    def renew_leases(self, owner: str, *, now: float, lease_seconds: float) -> list[str]:
        held = self._store.renew_leases(owner, now=now, lease_seconds=lease_seconds)
        self.renewed.set()
        self.release.wait(ROUND)
        return held

    def load_executions(self, ids: list[str]) -> Any:
        self.loads += 1
        return self._store.load_executions(ids)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HeldRenewal]:
    store = open_store(f"sqlite:///{tmp_path / 'runtime.db'}")
    store.migrate()
    yield HeldRenewal(store)
    store.close()


class Append:
    """The ``append`` function: answers each call once the test lets it."""

    def __init__(self) -> None:
        self.called = asyncio.Event()
        self.answer = asyncio.Event()

    async def __call__(self, data: Any, context: Any) -> dict[str, Any]:
        self.called.set()
        await self.answer.wait()
        return {"appended": True}


async def started(store: HeldRenewal, append: Append) -> tuple[Runtime, LoadedWorkflow]:
    fake = FakeFunctions({"append": append})
    # A lease of an hour: the runtime's own round never comes during the test.
    registry = WorkflowRegistry(store)  # type: ignore[arg-type]
    runtime = Runtime(
        store,  # type: ignore[arg-type]
        registry=registry,
        effects=Effects(functions=FunctionEffects(fake)),
        lease_seconds=3600,
    )
    await runtime.start()
    workflow = registry.add(
        workflow_from_yaml(CALL).definition, app_functions=frozenset({"append"})
    )
    return runtime, workflow


async def renewal_in_progress(runtime: Runtime, store: HeldRenewal) -> asyncio.Task[None]:
    round_ = asyncio.create_task(runtime.renew_leases())
    assert await asyncio.to_thread(store.renewed.wait, ROUND), "the renewal never ran"
    return round_


async def test_an_execution_started_during_a_lease_round_is_not_forgotten(
    store: HeldRenewal, caplog: pytest.LogCaptureFixture
) -> None:
    append = Append()
    runtime, workflow = await started(store, append)
    try:
        round_ = await renewal_in_progress(runtime, store)
        execution_id = await runtime.start_execution(workflow, {})
        await asyncio.wait_for(append.called.wait(), ROUND)  # it waits for its call now
        store.release.set()
        await round_
        assert execution_id in runtime.live, "the runtime forgot an execution it holds"
        assert "expired" not in caplog.text
        append.answer.set()
        outcome = await runtime.wait_for(execution_id, timeout=ROUND)
        assert outcome.status == "completed"
    finally:
        store.release.set()
        await runtime.stop()


async def test_an_execution_that_ended_during_a_lease_round_is_not_adopted(
    store: HeldRenewal, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    append = Append()
    runtime, workflow = await started(store, append)
    try:
        execution_id = await runtime.start_execution(workflow, {})
        await asyncio.wait_for(append.called.wait(), ROUND)
        round_ = await renewal_in_progress(runtime, store)  # it still holds the execution
        append.answer.set()
        outcome = await runtime.wait_for(execution_id, timeout=ROUND)
        assert outcome.status == "completed"
        loads = store.loads
        store.release.set()
        await round_
        assert store.loads == loads, "an execution that had ended was loaded to be adopted"
        assert "adopting" not in caplog.text
    finally:
        store.release.set()
        await runtime.stop()
