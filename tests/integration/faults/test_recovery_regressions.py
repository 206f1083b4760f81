"""Bugs the fault tests found in the runtime, each reproduced here in one process.

Two let an engine run an execution twice, delivering calls again although their results
had been committed (seen with three engines on PostgreSQL):

- two recovery loops (start-up and pick-up) adopted the same claimed execution at once:
  ``_adopt`` checked ``self.live`` before reading the store, and both found it not live;
- leases were renewed on the loop that also took over expired executions, and only after
  the start-up recovery: while a large backlog was being adopted nothing was renewed, the
  leases expired, and another engine took the same executions.

One left executions pending for ever (seen when PostgreSQL restarted): a recovery that
failed between claiming executions and adopting them left them claimed by an engine that
renewed their leases but never ran them.

One kept an engine from stopping: the outbox relay waited with ``wait_for``, which on
Python 3.11 swallows a cancellation that arrives just as its event is set.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import pytest

from flowapp.functions.testing import FakeFunctions
from flowapp.runtime.dispatch import Effects
from flowapp.runtime.effects.functions import FunctionEffects
from flowapp.runtime.runtime import Runtime
from flowapp.store.port import Store, StoreUnavailable
from flowapp.store.sql import SqlStore
from tests.integration.faults import workloads

ONE_CALL = workloads.document(
    "one-call", "do:\n  - step1: {call: ledger, with: {op: step1, n: '${ .n }'}}\n"
)


def _engine(store: Any, functions: FakeFunctions, owner: str, **options: Any) -> Runtime:
    effects = Effects(functions=FunctionEffects(functions))
    return Runtime(store, effects=effects, owner=owner, poll_interval=0.02, **options)


def _answer(data: Any, context: Any) -> dict[str, Any]:
    return {"n": data["n"], "a": 2 * data["n"]}


class SlowStateReads:
    """The store of a busy database: every state read takes ``delay`` seconds."""

    def __init__(self, store: Store, delay: float) -> None:
        self._store = store
        self._delay = delay

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def load_state(self, execution_id: str) -> dict[str, Any] | None:
        time.sleep(self._delay)
        return self._store.load_state(execution_id)


class FailingReads:
    """A store whose next ``failures`` execution reads fail, as while a database restarts."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.failures = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def get_execution(self, execution_id: str) -> Any:
        self._fail_if_due("get_execution")
        return self._store.get_execution(execution_id)

    def load_executions(self, execution_ids: Any) -> Any:
        self._fail_if_due("load_executions")
        return self._store.load_executions(execution_ids)

    def _fail_if_due(self, what: str) -> None:
        if self.failures:
            self.failures -= 1
            raise StoreUnavailable(f"{what}: the database system is shutting down")


async def test_two_recoveries_at_once_adopt_an_execution_once(sqlite_store: SqlStore) -> None:
    workflow = workloads.register(sqlite_store, ONE_CALL)
    (execution_id,) = await workloads.submit_async(sqlite_store, [(workflow, {"n": 1})])
    functions = FakeFunctions({"ledger": _answer})
    engine = _engine(sqlite_store, functions, "engine")
    await engine.start(recover=False)
    try:
        # Both claim it (the second as its own) and both find it not yet adopted.
        await asyncio.gather(engine.recover(), engine.recover())
        outcome = await engine.wait_for(execution_id, timeout=10)
    finally:
        await engine.stop()
    assert outcome.status == "completed"
    assert [call.idempotency_key for call in functions.calls] == [f"{execution_id}/do/0/step1#1"]
    assert [run.name for run in sqlite_store.task_runs(execution_id)] == ["step1"]


@pytest.mark.timeout(30)
async def test_leases_are_renewed_while_a_backlog_is_adopted(sqlite_store: SqlStore) -> None:
    workflow = workloads.register(sqlite_store, ONE_CALL)
    ids = await workloads.submit_async(sqlite_store, [(workflow, {"n": n}) for n in range(50)])
    functions = FakeFunctions({"ledger": _answer})
    # Adopting 50 executions takes ~1 s, more than twice the lease.
    slow = SlowStateReads(sqlite_store, delay=0.02)
    first = _engine(slow, functions, "first", lease_seconds=0.4)
    second = _engine(sqlite_store, functions, "second", lease_seconds=0.4)
    starting = asyncio.create_task(first.start(scale_out=True))
    await asyncio.sleep(0.05)  # the first engine has claimed the backlog
    await second.start(scale_out=True)  # and takes over whatever lease expires
    try:
        await starting
        await _until_final(sqlite_store, ids, timeout=10)
    finally:
        await asyncio.gather(first.stop(), second.stop())
    repeated = [k for k, n in Counter(c.idempotency_key for c in functions.calls).items() if n > 1]
    assert repeated == []
    records = [sqlite_store.get_execution(i) for i in ids]
    assert {(r.status, r.owner) for r in records if r is not None} == {("completed", "first")}


async def _until_final(store: Store, ids: list[str], *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        records = [store.get_execution(i) for i in ids]
        if all(r is not None and r.status == "completed" for r in records):
            return
        await asyncio.sleep(0.05)


async def test_executions_claimed_by_a_failed_recovery_are_adopted_later(
    sqlite_store: SqlStore,
) -> None:
    workflow = workloads.register(sqlite_store, ONE_CALL)
    store = FailingReads(sqlite_store)
    engine = _engine(store, FakeFunctions({"ledger": _answer}), "engine", lease_seconds=0.3)
    await engine.start(scale_out=True)
    try:
        store.failures = 1  # the first adoption fails, after its batch was claimed
        jobs = [(workflow, {"n": n}) for n in range(5)]
        ids = await workloads.submit_async(sqlite_store, jobs)
        await _until_final(sqlite_store, ids, timeout=5)
    finally:
        await engine.stop()
    assert store.failures == 0
    records = [sqlite_store.get_execution(i) for i in ids]
    assert [r.status for r in records if r is not None] == ["completed"] * 5


@pytest.mark.timeout(10)
async def test_stop_returns_when_the_outbox_relay_was_just_woken(sqlite_store: SqlStore) -> None:
    workflow = workloads.register(sqlite_store, ONE_CALL)
    await workloads.submit_async(sqlite_store, [(workflow, {"n": 1})])
    engine = _engine(sqlite_store, FakeFunctions({"ledger": _answer}), "engine")
    await engine.start(recover=False)
    await engine.recover()  # claims the execution, which wakes the outbox relay up
    await engine.stop()  # and cancels the relay before it ran: it must still end
