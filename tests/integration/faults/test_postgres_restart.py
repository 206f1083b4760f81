"""The PostgreSQL server restarts while one ``flowapp engine`` process is under load.

Executions keep arriving (submitted through the same server) while the server is restarted
in fast mode, which disconnects every client at once. The engine must ride it out: its
commits wait and retry, its pooled connections are replaced, and every execution completes
with each task recorded once and no call delivered twice (nothing was lost, so nothing is
recovered).

This restarts the shared server: the outage is kept short (one restart), and the test
waits for the server to accept connections again before it goes on.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from flowapp.store.port import ExecutionFilter, StoreUnavailable
from flowapp.store.sql import SqlStore
from tests.integration.faults import audit, postgres, workloads
from tests.integration.faults.processes import Processes

EXECUTIONS = 300


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.serial  # restarts the shared PostgreSQL server: nothing else may run meanwhile
@pytest.mark.timeout(150)
@pytest.mark.reply_ms(200)  # an execution lasts ~0.5 s: many are mid-way at the restart
def test_the_engine_rides_out_a_postgresql_restart(
    processes: Processes, ledger: Path, ledger_host: str, pg_url: str, pg_store: SqlStore
) -> None:
    store = pg_store
    workflow = workloads.register(store, workloads.pair(100))
    engine = processes.engine(db=pg_url, owner="solo", functions={"ledger": ledger_host}, lease=5)
    engine.wait_for_log("engine solo started")
    jobs = [(workflow, {"n": n}) for n in range(EXECUTIONS)]
    submitted: list[str] = []
    # Submissions go on through the restart too (the client's commits wait and retry).
    feeder = threading.Thread(
        target=lambda: submitted.extend(workloads.submit(store, jobs, pause=0.01))
    )
    feeder.start()

    _wait_for_completed(store, EXECUTIONS // 4)
    in_flight = audit.unfinished_count(store)
    down_for = postgres.restart_server()
    feeder.join(timeout=60)
    audit.wait_until_finished(store, EXECUTIONS, timeout=90, tails=processes.tails)

    assert engine.alive, engine.tail()
    assert len(submitted) == EXECUTIONS
    pairs = audit.completion_problems(store, submitted, workloads.pair_output, workloads.PAIR_TASKS)
    assert pairs == []
    deliveries = audit.read_ledger(ledger)
    assert audit.one_key_per_call(deliveries) == []
    assert audit.redeliveries(deliveries, []) == []  # the engine never lost its state
    log = engine.log_text()
    retries = log.count("store unavailable, retrying")
    orphans = log.count("claimed but never started here")
    print(
        f"PostgreSQL refused connections for {down_for:.2f} s with {in_flight} executions "
        f"unfinished; the engine logged {retries} commit retries and adopted {orphans} "
        f"batches of orphans; {len(deliveries)} deliveries of "
        f"{len(Counter(d.key for d in deliveries))} calls"
    )


def _wait_for_completed(store: SqlStore, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if store.count_executions(ExecutionFilter(status="completed")) >= count:
                return
        except StoreUnavailable:  # the server is restarting
            pass
        time.sleep(0.02)
    raise AssertionError(f"fewer than {count} executions completed in {timeout} s")
