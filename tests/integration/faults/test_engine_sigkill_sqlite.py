"""One ``flowapp engine`` process on SQLite, SIGKILLed at random moments and restarted.

200 executions of ``call -> wait -> fork(call, call) -> call`` arrive in waves: one
before the engine starts, one while it is down after each of four kills (each time it is
restarted under the same ``--owner``, so it takes its executions back at once), and one
while it runs before each kill that comes during normal running. The kills alternate
between a random moment of the recovery at start-up and a random moment of normal running
with calls and waits in flight (the wave submitted while running makes sure of the waits:
the recovered executions may all be past theirs by then). Right after each kill the
committed states are snapshot: the calls they still wait for are the only ones that may be
delivered again, and the timers they hold come due while nobody runs (they must fire after
the restart).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from flowapp.store.sql import SqlStore
from flowapp.store.sql.tables import executions
from flowapp.store.sql.tables import timers as timers_table
from tests.integration.faults import audit, workloads
from tests.integration.faults.audit import Delivery, Snapshot
from tests.integration.faults.processes import Process, Processes

EXECUTIONS = 200
KILLS = 4
LEASE = 5.0
CALLS = ("0/step1", "2/both/fork/branches/0/left", "2/both/fork/branches/1/right", "3/final")


@pytest.mark.slow
@pytest.mark.serial  # many processes against a deadline: not beside the suite's other workers
@pytest.mark.timeout(150)
@pytest.mark.reply_ms(150)  # an execution lasts ~0.6 s: a kill finds many of them mid-way
def test_sigkilled_engine_loses_nothing_and_repeats_only_uncommitted_calls(
    processes: Processes, ledger: Path, ledger_host: str, sqlite_store: SqlStore
) -> None:
    store = sqlite_store
    pipelines = [workloads.register(store, workloads.pipeline(ms)) for ms in (50, 100, 150, 200)]
    seed = random.randrange(1 << 30)
    print(f"random seed {seed}")  # shown with a failure, to replay the same kill moments
    rng = random.Random(seed)
    jobs = [(pipelines[n % 4], {"n": n}) for n in range(EXECUTIONS)]
    running_kills = KILLS // 2
    waves = iter([jobs[i :: 1 + KILLS + running_kills] for i in range(1 + KILLS + running_kills)])
    inputs: list[dict[str, int]] = []

    def submit_a_wave() -> list[str]:
        wave = next(waves)
        inputs.extend(data for _, data in wave)
        return workloads.submit(store, wave)

    submitted = submit_a_wave()

    def start() -> Process:
        url = str(store.engine.url)
        return processes.engine(
            db=url, owner="solo", functions={"ledger": ledger_host}, lease=LEASE
        )

    snapshots, restarts, phases = [], [], []
    engine = start()
    for number in range(KILLS):
        recovering = number % 2 == 0
        if recovering:
            _wait_for_a_moment_of_recovery(store, rng)
        else:
            engine.wait_for_log("started")
            submitted += submit_a_wave()
            _wait_for_a_moment_of_running(store, rng)
        engine.kill()
        phases.append("recovering" if recovering else "running")
        snapshots.append(audit.snapshot(store, audit.all_ids(store)))
        submitted += submit_a_wave()
        time.sleep(0.3)  # down long enough for every armed timer (<= 200 ms) to come due
        restarts.append(time.time())
        engine = start()
    assert next(waves, None) is None, "every wave was submitted"
    audit.wait_until_finished(store, EXECUTIONS, timeout=60, tails=processes.tails)

    for execution_id, data in zip(submitted, inputs, strict=True):
        record = store.get_execution(execution_id)
        assert record is not None and record.status == "completed", record
        assert record.output == workloads.pipeline_output(data["n"])
    problems = [
        problem
        for execution_id in submitted
        for problem in audit.task_run_problems(store, execution_id, workloads.PIPELINE_TASKS)
    ]
    assert problems == []
    deliveries = audit.read_ledger(ledger)
    assert audit.one_key_per_call(deliveries) == []
    assert audit.redeliveries(deliveries, snapshots) == []
    assert {d.key for d in deliveries} == {f"{e}/do/{c}#1" for e in submitted for c in CALLS}
    late = [_late_timers(store, s, r) for s, r in zip(snapshots, restarts, strict=True)]
    assert sum(late) > 0, "no kill caught an armed timer"
    _report(deliveries, snapshots, late, phases)


def _wait_for_a_moment_of_recovery(store: SqlStore, rng: random.Random) -> None:
    """A random moment after the engine began to claim executions at start-up."""
    _wait_for_claims(store, since=time.time() - 0.1)
    time.sleep(rng.uniform(0.0, 0.3))


def _wait_for_a_moment_of_running(store: SqlStore, rng: random.Random) -> None:
    """A random moment of normal running at which some wait is in progress."""
    time.sleep(rng.uniform(0.05, 0.3))
    _wait_for_an_armed_timer(store)


def _wait_for_an_armed_timer(store: SqlStore, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    query = sa.select(sa.func.count()).select_from(timers_table)
    while time.monotonic() < deadline:
        with store.engine.connect() as conn:
            if conn.execute(query).scalar_one():
                return
        time.sleep(0.005)
    raise AssertionError("no wait was in progress")


def _wait_for_claims(store: SqlStore, *, since: float, timeout: float = 20.0) -> None:
    """Until some execution was claimed after ``since`` (its lease ends after since + LEASE):
    the engine's imports are done and its recovery has begun."""
    query = sa.select(sa.func.count()).where(executions.c.lease_until > since + LEASE)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with store.engine.connect() as conn:
            if conn.execute(query).scalar_one():
                return
        time.sleep(0.005)
    raise AssertionError("the engine claimed nothing")


def _late_timers(store: SqlStore, shot: Snapshot, restarted: float) -> int:
    """Timers armed at the kill and due before the restart: each wait must have ended after
    the restart (nobody else could fire it). Returns how many there were."""
    due = [key for key, due_at in shot.timers_due.items() if due_at <= restarted]
    for key in due:
        execution_id = key.split("/")[0]
        waits = [r for r in store.task_runs(execution_id) if r.name == "pause"]
        assert len(waits) == 1 and (waits[0].ended_at or 0) >= restarted, waits
    return len(due)


def _report(
    deliveries: list[Delivery], snapshots: list[Snapshot], late: list[int], phases: list[str]
) -> None:
    counts = Counter(d.key for d in deliveries)
    repeated = {key for key, n in counts.items() if n > 1}
    for number, (shot, timers, phase) in enumerate(zip(snapshots, late, phases, strict=True), 1):
        print(
            f"kill {number} ({phase}): {shot.unfinished} unfinished, "
            f"{len(shot.outstanding_calls)} calls without a committed result, "
            f"{len(repeated & shot.outstanding_calls)} of them delivered again; "
            f"{timers} timers came due while down"
        )
    print(f"{len(deliveries)} deliveries of {len(counts)} calls")
