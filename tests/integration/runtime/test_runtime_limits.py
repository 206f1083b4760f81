"""No execution stalls the runtime: step budgets, execution limits and quarantine, on a
real SQLite store, with each kind of decider."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from flowapp.engine.limits import ExecutionLimits
from flowapp.engine.testing import workflow_from_yaml
from flowapp.functions.testing import FakeFunctions
from flowapp.runtime.deciders.base import DEFAULT_STEP_BUDGET, Decider
from flowapp.runtime.deciders.inprocess import InProcessDecider
from flowapp.runtime.deciders.pool import IsolatedDecider, PoolSettings
from flowapp.runtime.dispatch import Effects
from flowapp.runtime.effects.functions import FunctionEffects
from flowapp.runtime.journal import DecisionJournal
from flowapp.runtime.registry import WorkflowRegistry
from flowapp.runtime.runtime import Runtime
from flowapp.store import open_store
from flowapp.store.port import Store

FOREVER = """
do:
  - spin:
      set: {n: '${ .n + 1 }'}
      then: spin
"""

SAVED_BEFORE_ITS_LOOP = """
do:
  - pause: {wait: {milliseconds: 300}}
  - spin:
      set: {n: '${ .n + 1 }'}
      then: spin
"""

QUICK = "do:\n  - hello: {set: {hello: '${ .name }'}}\n"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path / 'runtime.db'}")
    store.migrate()
    yield store
    store.close()


@pytest.fixture(params=["in-process", "isolated"])
def make_decider(request: pytest.FixtureRequest):
    def make(step_budget: int = DEFAULT_STEP_BUDGET) -> Decider:
        if request.param == "in-process":
            return InProcessDecider(step_budget=step_budget)
        # These tests are about the other limits: a busy machine must not turn them into
        # the decision's wall-time limit (tested on flowapp up, tests/e2e).
        pool = PoolSettings(workers=1, step_budget=step_budget, decision_seconds=60.0)
        return IsolatedDecider(pool)

    return make


@pytest.fixture
async def runtime(store: Store, make_decider) -> AsyncIterator[Runtime]:
    runtime = Runtime(store, decider=make_decider())
    await runtime.start()
    yield runtime
    await runtime.stop()


def register(store: Store, text: str, limits: ExecutionLimits | None = None, **options):
    document = workflow_from_yaml(text).definition
    return WorkflowRegistry(store).add(document, limits=limits or ExecutionLimits(), **options)


def problem_of(store: Store, execution_id: str) -> dict:
    record = store.get_execution(execution_id)
    assert record.status == "faulted", record
    return record.error


async def test_an_endless_loop_faults_at_its_task_run_limit_and_others_go_on(
    store: Store, runtime: Runtime
) -> None:
    loop = register(store, FOREVER, ExecutionLimits(task_runs=6000))
    quick = register(store, QUICK)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticking = asyncio.create_task(ticker())
    looping = await runtime.start_execution(loop, {"n": 0})
    others = [await runtime.start_execution(quick, {"name": f"n{i}"}) for i in range(3)]
    outcomes = [await runtime.wait_for(other, timeout=20) for other in others]
    assert store.get_execution(looping).status == "running"  # the others did not wait for it
    looped = await runtime.wait_for(looping, timeout=60)
    ticking.cancel()
    assert [o.status for o in outcomes] == ["completed"] * 3
    assert looped.status == "faulted"
    error = problem_of(store, looping)
    assert error["status"] == 429 and error["limit"] == "taskRuns"
    assert error["title"] == "Execution limit exceeded" and error["instance"] == "/do/0/spin"
    assert len(store.task_runs(looping)) == 6000
    assert ticks >= 6  # the loop gave the event loop back between its turns


async def test_a_poison_pill_saved_before_its_loop_is_bounded_after_a_restart(
    store: Store, make_decider
) -> None:
    workflow = register(store, SAVED_BEFORE_ITS_LOOP, ExecutionLimits(task_runs=3000))
    first = Runtime(store, decider=make_decider())
    await first.start()
    execution_id = await first.start_execution(workflow, {"n": 0})
    await first.stop()  # saved while it waits; its loop starts after the restart
    assert store.get_execution(execution_id).status == "waiting"
    second = Runtime(store, decider=make_decider())
    await second.start()
    quick = await second.start_execution(register(store, QUICK), {"name": "x"})
    outcome = await second.wait_for(execution_id, timeout=60)
    assert (await second.wait_for(quick, timeout=10)).status == "completed"
    await second.stop()
    assert outcome.status == "faulted" and outcome.error["limit"] == "taskRuns"
    assert outcome.error["detail"].startswith("the execution has run 3,000 tasks")


async def test_a_turn_cut_by_its_budget_goes_on_after_a_restart(store: Store, make_decider) -> None:
    counting = """
    do:
      - add:
          set: {n: '${ .n + 1 }'}
      - again:
          switch:
            - more: {when: .n < 3000, then: add}
            - done: {then: continue}
    """
    workflow = register(store, counting)
    first = Runtime(store, decider=make_decider(step_budget=50))
    await first.start()
    execution_id = await first.start_execution(workflow, {"n": 0})
    await first.stop()  # at most a few turns ran: the rest is in the saved state
    saved = store.load_state(execution_id)
    assert saved["pending"] and saved["status"] == "running"
    second = Runtime(store, decider=make_decider(step_budget=50))
    await second.start()
    outcome = await second.wait_for(execution_id, timeout=60)
    await second.stop()
    assert outcome.status == "completed" and outcome.output == {"n": 3000}
    names = [run.name for run in store.task_runs(execution_id)]
    assert names.count("add") == 3000 and names.count("again") == 3000


async def test_cpu_time_over_the_limit_faults_the_execution(store: Store, runtime: Runtime) -> None:
    heavy = """
    do:
      - churn:
          set: {n: '${ .n + ([range(20000)] | add) * 0 + 1 }'}
          then: churn
    """
    workflow = register(store, heavy, ExecutionLimits(cpu_seconds=0.3))
    execution_id = await runtime.start_execution(workflow, {"n": 0})
    outcome = await runtime.wait_for(execution_id, timeout=60)
    assert outcome.status == "faulted" and outcome.error["limit"] == "cpuTime"
    assert "CPU time" in outcome.error["detail"] and "0.3 s" in outcome.error["detail"]
    assert outcome.error["instance"] == "/do/0/churn"
    assert store.load_state(execution_id)["cpu_seconds"] > 0.3


async def test_a_state_over_its_size_limit_faults_the_execution_and_is_not_stored(
    store: Store, runtime: Runtime
) -> None:
    bloat = """
    do:
      - grow: {set: {blob: '${ [range(50000)] | map(tostring) | join(",") }'}}
      - wait: {wait: PT1H}
    """
    workflow = register(store, bloat, ExecutionLimits(state_bytes=100_000))
    execution_id = await runtime.start_execution(workflow, {})
    outcome = await runtime.wait_for(execution_id, timeout=30)
    assert outcome.status == "faulted" and outcome.error["limit"] == "stateSize"
    assert "100,000 bytes" in outcome.error["detail"]
    assert len(str(store.load_state(execution_id))) < 100_000


async def test_a_for_over_its_item_limit_faults_through_the_runtime(
    store: Store, runtime: Runtime
) -> None:
    text = "do:\n  - each:\n      for: {in: '[range(101)]'}\n      do:\n        - x: {set: {}}\n"
    workflow = register(store, text, ExecutionLimits(for_items=100))
    execution_id = await runtime.start_execution(workflow, {})
    outcome = await runtime.wait_for(execution_id, timeout=30)
    assert outcome.status == "faulted" and outcome.error["limit"] == "forItems"
    assert outcome.error["instance"] == "/do/0/each"


def _died_deciding(journal: Path, execution_id: str) -> None:
    """What the decision journal holds when the process dies in the middle of a turn."""
    journal.write_bytes(f"{execution_id}\n".encode() + b"\0")


async def test_an_execution_the_process_died_deciding_twice_is_quarantined(
    store: Store, make_decider, tmp_path: Path
) -> None:
    journal = tmp_path / "decisions.journal"
    calls = []

    async def fn(data, context):
        calls.append(data)
        await asyncio.sleep(3600)  # still in flight when the process "dies"

    def runtime() -> Runtime:
        effects = Effects(functions=FunctionEffects(FakeFunctions({"fn": fn})))
        return Runtime(
            store, effects=effects, decider=make_decider(), journal=DecisionJournal(journal)
        )

    workflow = register(store, "do:\n  - call: {call: fn}\n", app_functions=frozenset({"fn"}))
    first = runtime()
    await first.start()
    execution_id = await first.start_execution(workflow, {"x": 1})
    await asyncio.sleep(0.1)
    await first.stop()
    assert journal.read_bytes().startswith(b"\0")  # nothing was being decided at the end

    _died_deciding(journal, execution_id)
    second = runtime()
    await second.start()  # the first death: counted, and the execution goes on
    await asyncio.sleep(0.2)
    assert store.load_state(execution_id)["crashes"] == 1
    assert store.get_execution(execution_id).status == "running" and len(calls) == 2
    await second.stop()

    _died_deciding(journal, execution_id)
    third = runtime()
    await third.start()  # the second death: quarantined, its call not made again
    outcome = await third.wait_for(execution_id, timeout=10)
    await third.stop()
    assert outcome.status == "faulted" and outcome.error["title"] == "Execution quarantined"
    assert "stopped 2 times while deciding" in outcome.error["detail"]
    assert outcome.error["instance"] == "/do/0/call"
    assert len(calls) == 2


async def test_the_journal_names_the_execution_being_decided(tmp_path: Path) -> None:
    journal = DecisionJournal(tmp_path / "j")
    assert journal.open() == set()
    journal.begin("exec-a")
    journal.begin("exec-b")
    journal.end("exec-a")
    assert DecisionJournal.read(tmp_path / "j") == {"exec-b"}
    journal.end("exec-b")
    assert DecisionJournal.read(tmp_path / "j") == set()
    journal.begin("exec-c")  # the process dies here
    assert DecisionJournal(tmp_path / "j").open() == {"exec-c"}
