"""Three ``flowapp engine`` processes share PostgreSQL; one is SIGKILLed mid-run.

500 executions of ``call -> wait -> call`` are submitted while the three engines claim
them. Once some have completed, one engine is killed; what it held must be taken over by
the other two once its lease has expired (not before), and every execution completes with
each task recorded once and only the killed engine's uncommitted calls delivered again.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from flowapp.store.port import ExecutionFilter
from flowapp.store.sql import SqlStore
from tests.integration.faults import audit, workloads
from tests.integration.faults.processes import Processes

EXECUTIONS = 500
LEASE = 2.5
OWNERS = ("engine-a", "engine-b", "engine-c")
VICTIM = "engine-b"


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.serial  # many processes against a deadline: not beside the suite's other workers
@pytest.mark.timeout(150)
def test_a_killed_engines_executions_are_taken_over_after_its_lease(
    processes: Processes, ledger: Path, ledger_host: str, pg_url: str, pg_store: SqlStore
) -> None:
    store = pg_store
    workflow = workloads.register(store, workloads.pair(50))
    engines = {
        owner: processes.engine(
            db=pg_url, owner=owner, functions={"ledger": ledger_host}, lease=LEASE
        )
        for owner in OWNERS
    }
    for owner, engine in engines.items():
        engine.wait_for_log(f"engine {owner} started")
    submitted: list[str] = []
    feeder = threading.Thread(
        target=lambda: submitted.extend(
            workloads.submit(store, [(workflow, {"n": n}) for n in range(EXECUTIONS)])
        )
    )
    feeder.start()

    _wait_for_progress(store, completed=EXECUTIONS // 4, victim_holds=10)
    engines[VICTIM].kill()
    killed_at = time.time()
    shot, leases = audit.held_by(store, VICTIM)
    taken_over_after = _wait_until_released(store, VICTIM, timeout=4 * LEASE)
    feeder.join(timeout=60)
    audit.wait_until_finished(store, EXECUTIONS, timeout=90, tails=processes.tails)

    assert len(submitted) == EXECUTIONS
    pairs = audit.completion_problems(store, submitted, workloads.pair_output, workloads.PAIR_TASKS)
    assert pairs == []
    # What the victim held was finished by the others, and only after its lease expired.
    for execution_id, lease_until in leases.items():
        record = store.get_execution(execution_id)
        assert record is not None and record.owner in set(OWNERS) - {VICTIM}
        later = [r for r in store.task_runs(execution_id) if (r.ended_at or 0) > killed_at]
        assert all((r.ended_at or 0) >= lease_until for r in later), (lease_until, later)
    deliveries = audit.read_ledger(ledger)
    assert audit.one_key_per_call(deliveries) == []
    assert audit.redeliveries(deliveries, [shot]) == []
    _report(store, submitted, deliveries, shot, taken_over_after)


def _wait_for_progress(
    store: SqlStore, *, completed: int, victim_holds: int, timeout: float = 60
) -> None:
    """Until ``completed`` executions are done and the victim holds unfinished ones."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = store.count_executions(ExecutionFilter(status="completed"))
        held, _ = audit.held_by(store, VICTIM)
        if done >= completed and held.unfinished >= victim_holds:
            return
        time.sleep(0.02)
    raise AssertionError("the engines made no progress")


def _wait_until_released(store: SqlStore, owner: str, *, timeout: float) -> float:
    """Seconds until ``owner`` holds no unfinished execution any more."""
    started = time.monotonic()
    while audit.held_by(store, owner)[0].unfinished:
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{owner}'s executions were not taken over in {timeout} s")
        time.sleep(0.02)
    return time.monotonic() - started


def _report(
    store: SqlStore,
    submitted: list[str],
    deliveries: list[audit.Delivery],
    shot: audit.Snapshot,
    taken_over_after: float,
) -> None:
    owners = Counter(
        record.owner for e in submitted if (record := store.get_execution(e)) is not None
    )
    repeated = {key for key, n in Counter(d.key for d in deliveries).items() if n > 1}
    print(
        f"victim held {shot.unfinished} unfinished executions with "
        f"{len(shot.outstanding_calls)} uncommitted calls; {len(repeated)} delivered again; "
        f"taken over {taken_over_after:.2f} s after the kill (lease {LEASE} s); "
        f"finished by {dict(owners)}"
    )
