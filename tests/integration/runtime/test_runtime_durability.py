"""The runtime on a real SQLite store: recovery, timers across restarts, signals, retry."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from flowapp.engine.signals import Cancel
from flowapp.engine.testing import workflow_from_yaml
from flowapp.functions.testing import FakeFunctions
from flowapp.runtime.dispatch import Effects
from flowapp.runtime.effects.functions import FunctionEffects
from flowapp.runtime.registry import WorkflowRegistry
from flowapp.runtime.runtime import Runtime
from flowapp.store import open_store
from flowapp.store.port import ExecutionFilter, Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = open_store(f"sqlite:///{tmp_path / 'runtime.db'}")
    store.migrate()
    yield store
    store.close()


def register(store: Store, text: str, functions: frozenset[str] = frozenset()):
    return WorkflowRegistry(store).add(workflow_from_yaml(text).definition, app_functions=functions)


WAITING = """
do:
  - pause: {wait: {milliseconds: 300}}
  - done: {set: {done: true}}
"""


async def test_a_timer_survives_a_restart_and_fires_late(store: Store) -> None:
    workflow = register(store, WAITING)
    first = Runtime(store)
    await first.start()
    execution_id = await first.start_execution(workflow, {})
    await first.stop()  # the process goes away while the execution waits
    assert store.get_execution(execution_id).status == "waiting"
    await asyncio.sleep(0.4)  # the timer comes due while nobody runs
    second = Runtime(store)
    await second.start()
    outcome = await second.wait_for(execution_id, timeout=10)
    await second.stop()
    assert outcome.status == "completed" and outcome.output == {"done": True}
    runs = store.task_runs(execution_id)
    assert [(r.name, r.status) for r in runs] == [("pause", "completed"), ("done", "completed")]


async def test_a_signal_through_the_store_reaches_the_engine_holding_it(store: Store) -> None:
    workflow = register(store, "do:\n  - pause: {wait: PT1H}\n")
    engine = Runtime(store, owner="engine-1", poll_interval=0.05)
    await engine.start()
    execution_id = await engine.start_execution(workflow, {})
    other = Runtime(store, owner="cli")
    await other.start(recover=False)
    await other.send(execution_id, Cancel())
    outcome = await engine.wait_for(execution_id, timeout=10)
    await other.stop()
    await engine.stop()
    assert outcome.status == "cancelled"
    assert [r.status for r in store.task_runs(execution_id)] == ["cancelled"]


LISTENING = """
do:
  - paid:
      listen:
        to: {one: {with: {type: order.paid, data: '${ .order == $workflow.input.order }'}}}
"""


def paid(order: str, event_id: str) -> dict[str, object]:
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": "/shop",
        "type": "order.paid",
        "data": {"order": order},
    }


async def test_an_event_reaches_executions_listening_in_another_process(store: Store) -> None:
    """The bus gives each event to one process; the others' listeners get it via the store."""
    workflow = register(store, LISTENING)
    holder = Runtime(store, owner="engine-1", poll_interval=0.02)
    receiver = Runtime(store, owner="engine-2", poll_interval=0.02)
    await holder.start(scale_out=True)
    await receiver.start(scale_out=True)
    there = await holder.start_execution(workflow, {"order": "A"})
    here = await receiver.start_execution(workflow, {"order": "A"})
    unrelated = await holder.start_execution(workflow, {"order": "B"})
    assert await receiver.offer_event(paid("A", "e-1")) == 3  # may want it; B's filter says no
    assert await receiver.offer_event({**paid("A", "e-2"), "type": "order.lost"}) == 0
    outcomes = [
        await runtime.wait_for(e, timeout=10) for runtime, e in ((holder, there), (receiver, here))
    ]
    assert [o.status for o in outcomes] == ["completed", "completed"]
    assert [o.output for o in outcomes] == [[{"order": "A"}], [{"order": "A"}]]
    await asyncio.sleep(0.1)  # B's holder has seen the event by now, and let it pass
    assert store.get_execution(unrelated).status == "waiting"
    assert store.pending_signals(owner=None, limit=10) == []
    await receiver.stop()
    await holder.stop()


async def test_alone_on_its_store_a_runtime_queues_no_events_for_others(store: Store) -> None:
    workflow = register(store, LISTENING)
    gone = Runtime(store, owner="gone")
    await gone.start()
    elsewhere = await gone.start_execution(workflow, {"order": "A"})
    await gone.stop()
    alone = Runtime(store, owner="alone")
    await alone.start(recover=False)
    assert await alone.offer_event(paid("A", "e-1")) == 0
    await alone.stop()
    assert store.pending_signals(owner=None, limit=10) == []
    assert store.get_execution(elsewhere).status == "waiting"


async def test_retry_from_the_failed_task_keeps_earlier_outputs(store: Store) -> None:
    calls: list[str] = []
    broken = {"two": True}

    async def one(data, context):
        calls.append("one")
        return {"one": 1}

    async def two(data, context):
        calls.append("two")
        if broken["two"]:
            raise RuntimeError("not yet")
        return {**data, "two": 2}

    fake = FakeFunctions({"one": one, "two": two})
    runtime = Runtime(store, effects=Effects(functions=FunctionEffects(fake)))
    await runtime.start()
    workflow = register(
        store,
        "do:\n  - maybe: {if: .go, call: two}\n  - a: {call: one}\n  - b: {call: two}\n",
        frozenset({"one", "two"}),
    )
    execution_id = await runtime.start_execution(workflow, {"go": False})
    first = await runtime.wait_for(execution_id, timeout=10)
    assert first.status == "faulted" and first.error["instance"] == "/do/2/b"
    broken["two"] = False
    await runtime.retry(execution_id)
    second = await runtime.wait_for(execution_id, timeout=10)
    await runtime.stop()
    assert second.status == "completed" and second.output == {"one": 1, "two": 2}
    assert calls == ["one", "two", "two"]  # `one` was not called again
    assert store.get_execution(execution_id).error is None
    runs = store.task_runs(execution_id)
    assert [(r.name, r.status) for r in runs] == [
        ("maybe", "skipped"),  # recorded once: the retry skips it again, quietly
        ("a", "completed"),
        ("b", "faulted"),
        ("b", "completed"),
    ]
    assert (runs[0].input, runs[0].output) == ({"go": False}, {"go": False})


async def test_a_retry_is_recorded_before_it_returns(store: Store) -> None:
    """Whoever asked for the retry reads the execution running at once, not the fault it
    had: a client that waits for the execution to end must not stop at the old one."""
    failing = {"now": True}
    released = asyncio.Event()

    async def charge(data, context):
        if failing["now"]:
            raise RuntimeError("card declined")
        await released.wait()
        return {"charged": True}

    runtime = Runtime(
        store, effects=Effects(functions=FunctionEffects(FakeFunctions({"charge": charge})))
    )
    await runtime.start()
    workflow = register(store, "do:\n  - pay: {call: charge}\n", frozenset({"charge"}))
    execution_id = await runtime.start_execution(workflow, {})
    assert (await runtime.wait_for(execution_id, timeout=10)).status == "faulted"
    failing["now"] = False
    await runtime.retry(execution_id)
    recorded = store.get_execution(execution_id)
    released.set()
    done = await runtime.wait_for(execution_id, timeout=10)
    await runtime.stop()
    assert (recorded.status, recorded.error) == ("running", None)
    assert done.status == "completed"


async def test_two_retries_at_once_run_the_failed_task_once(store: Store) -> None:
    calls: list[str] = []
    failing = {"now": True}

    async def charge(data, context):
        calls.append("charge")
        if failing["now"]:
            raise RuntimeError("card declined")
        return {"charged": True}

    functions = FakeFunctions({"charge": charge})
    runtime = Runtime(store, effects=Effects(functions=FunctionEffects(functions)))
    await runtime.start()
    workflow = register(store, "do:\n  - pay: {call: charge}\n", frozenset({"charge"}))
    execution_id = await runtime.start_execution(workflow, {})
    assert (await runtime.wait_for(execution_id, timeout=10)).status == "faulted"
    failing["now"] = False
    answers = await asyncio.gather(
        runtime.retry(execution_id), runtime.retry(execution_id), return_exceptions=True
    )
    done = await runtime.wait_for(execution_id, timeout=10)
    await runtime.stop()
    refused = [a for a in answers if isinstance(a, ValueError)]
    assert len(refused) == 1 and answers.count(None) == 1, answers
    assert done.status == "completed"
    assert calls == ["charge", "charge"]


async def test_submitted_executions_are_claimed_and_run_by_an_engine(store: Store) -> None:
    workflow = register(store, "do:\n  - hi: {set: {hello: '${ .name }'}}\n")
    client = Runtime(store, owner="api")
    await client.start(recover=False)
    ids = [await client.submit(workflow, {"name": f"n{i}"}) for i in range(5)]
    engine = Runtime(store, owner="engine", poll_interval=0.02)
    await engine.start(scale_out=True)
    outcomes = [await client.wait_for(i, timeout=10) for i in ids]
    await engine.stop()
    await client.stop()
    assert [o.output for o in outcomes] == [{"hello": f"n{i}"} for i in range(5)]


async def test_a_scaled_out_restart_takes_back_its_own_and_leaves_the_backlog_to_share(
    store: Store,
) -> None:
    workflow = register(store, "do:\n  - pause: {wait: PT1H}\n")
    before = Runtime(store, owner="engine-a")
    await before.start()
    own = [await before.start_execution(workflow, {}) for _ in range(3)]
    await before.stop()  # the process goes away holding them
    client = Runtime(store, owner="api")
    await client.start(recover=False)
    backlog = [await client.submit(workflow, {}) for _ in range(5)]
    await client.stop()

    again = Runtime(store, owner="engine-a", pickup_batch=2)
    await again.start(scale_out=True)
    # Nothing has run since start() returned: this is what start-up itself claimed.
    assert set(again.live) == set(own)
    assert [store.get_execution(e).owner for e in backlog] == [None] * 5
    other = Runtime(store, owner="engine-b", pickup_batch=2, poll_interval=0.02)
    await other.start(scale_out=True)
    deadline = asyncio.get_running_loop().time() + 10
    while any(store.get_execution(e).status == "pending" for e in backlog):
        assert asyncio.get_running_loop().time() < deadline, "the backlog was not picked up"
        await asyncio.sleep(0.02)
    await other.stop()
    await again.stop()
    assert {store.get_execution(e).owner for e in backlog} <= {"engine-a", "engine-b"}


async def test_cancel_suspend_resume_and_rerun(store: Store) -> None:
    workflow = register(
        store, "do:\n  - pause: {wait: {milliseconds: 200}}\n  - x: {set: {x: 1}}\n"
    )
    runtime = Runtime(store, poll_interval=0.02)
    await runtime.start()
    execution_id = await runtime.start_execution(workflow, {"a": 1})
    await runtime.suspend(execution_id)
    await asyncio.sleep(0.4)  # the timer fires while suspended; its result waits
    assert store.get_execution(execution_id).status == "suspended"
    await runtime.resume(execution_id)
    outcome = await runtime.wait_for(execution_id, timeout=10)
    assert outcome.status == "completed"
    again = await runtime.rerun(execution_id)
    rerun = await runtime.wait_for(again, timeout=10)
    await runtime.stop()
    assert rerun.status == "completed"
    record = store.get_execution(again)
    assert record.rerun_of == execution_id and record.input == {"a": 1}


async def test_payload_limits_refuse_big_inputs_and_fault_big_outputs(store: Store) -> None:
    from flowapp.runtime.limits import Limits, PayloadTooLarge

    async def huge(data, context):
        return {"blob": "x" * 5000}

    fake = FakeFunctions({"huge": huge})
    runtime = Runtime(
        store,
        effects=Effects(functions=FunctionEffects(fake)),
        limits=Limits(max_payload_bytes=1000),
    )
    await runtime.start()
    workflow = register(store, "do:\n  - big: {call: huge}\n", frozenset({"huge"}))
    with pytest.raises(PayloadTooLarge):
        await runtime.start_execution(workflow, {"blob": "y" * 2000})
    execution_id = await runtime.start_execution(workflow, {})
    outcome = await runtime.wait_for(execution_id, timeout=10)
    await runtime.stop()
    assert outcome.status == "faulted"
    assert (
        outcome.error["status"] == 413
        and "over the limit of 1,000 bytes" in outcome.error["detail"]
    )
    assert outcome.error["instance"] == "/do/0/big"
    assert store.count_executions(ExecutionFilter()) == 1  # the refused one left nothing


async def test_a_signal_for_an_execution_being_adopted_is_kept(store: Store) -> None:
    workflow = register(store, "do:\n  - pause: {wait: PT1H}\n")
    first = Runtime(store, owner="engine")
    await first.start()
    execution_id = await first.start_execution(workflow, {})
    await first.stop()
    store.send_signal(execution_id, {"signal": "Cancel", "reason": "stop"}, now=0.0)
    second = Runtime(store, owner="engine")
    second.recovery.adopting.add(execution_id)  # as if a recovery loop were adopting it now
    pending = store.pending_signals(owner="engine", limit=10)
    await second.signals.discard_stale(pending)
    assert [s.execution_id for s in store.pending_signals(owner="engine", limit=10)] == [
        execution_id
    ]
    second.recovery.adopting.clear()
    await second.start()  # adopts it, then the kept signal cancels it
    outcome = await second.wait_for(execution_id, timeout=10)
    await second.stop()
    assert outcome.status == "cancelled"


async def test_an_execution_whose_input_is_a_bare_number_is_recovered(store: Store) -> None:
    """Recovery reads the stored input: a bare number once failed to decode on SQLite,
    which also kept `flowapp up` from starting."""
    workflow = register(store, "do:\n  - pause: {wait: {milliseconds: 200}}\n")
    first = Runtime(store)
    await first.start()
    execution_id = await first.start_execution(workflow, 21)
    await first.stop()
    second = Runtime(store)
    await second.start()
    outcome = await second.wait_for(execution_id, timeout=10)
    await second.stop()
    assert (outcome.status, outcome.output) == ("completed", 21)


class TwoEngines:
    """Two engine processes on one store, and a payment that fails until it is fixed."""

    def __init__(self, store: Store) -> None:
        self.calls: list[str] = []
        self.failing = True
        self.engines = [self._engine(store, f"engine-{n}") for n in (1, 2)]

    def _engine(self, store: Store, owner: str) -> Runtime:
        async def charge(data, context):
            self.calls.append(owner)
            if self.failing:
                raise RuntimeError("card declined")
            return {"charged": True}

        functions = FunctionEffects(FakeFunctions({"charge": charge}))
        return Runtime(store, owner=owner, effects=Effects(functions=functions))

    async def faulted_on_the_first(self, store: Store) -> str:
        for engine in self.engines:
            await engine.start()
        workflow = register(store, "do:\n  - pay: {call: charge}\n", frozenset({"charge"}))
        execution_id = await self.engines[0].start_execution(workflow, {})
        assert (await self.engines[0].wait_for(execution_id, timeout=10)).status == "faulted"
        self.failing = False
        return execution_id

    async def stop(self) -> None:
        for engine in self.engines:
            await engine.stop()


async def test_another_engine_retries_an_execution_that_faulted_elsewhere(store: Store) -> None:
    two = TwoEngines(store)
    execution_id = await two.faulted_on_the_first(store)
    await two.engines[1].retry(execution_id)
    done = await two.engines[1].wait_for(execution_id, timeout=10)
    await two.stop()
    assert (done.status, done.output) == ("completed", {"charged": True})
    assert two.calls == ["engine-1", "engine-2"]
    assert store.get_execution(execution_id).owner == "engine-2"


async def test_two_engines_retrying_at_once_run_the_failed_task_once(store: Store) -> None:
    two = TwoEngines(store)
    execution_id = await two.faulted_on_the_first(store)
    answers = await asyncio.gather(
        *(engine.retry(execution_id) for engine in two.engines), return_exceptions=True
    )
    refused = [a for a in answers if isinstance(a, ValueError)]
    assert len(refused) == 1 and answers.count(None) == 1, answers
    retrying = two.engines[answers.index(None)]
    done = await retrying.wait_for(execution_id, timeout=10)
    await two.stop()
    assert done.status == "completed"
    assert len(two.calls) == 2  # the refused retry dispatched nothing
