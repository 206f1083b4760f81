"""Functions that fail for real: a 503 reply, no reply in time, a dropped connection, a
host killed mid-call. Each faults its task with a communication (503) or timeout (408)
error that ``try``/``catch`` with ``retry`` handles, and nothing hangs.

The functions are real processes (the Python host serving the ledger function, and a
raw-socket server that resets connections); the runtime runs in this process so that its
function timeout can be set (``flowapp engine`` has no option for it).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flowapp.engine.scope import Environment
from flowapp.functions.remote import RemoteFunctions
from flowapp.runtime.dispatch import Effects
from flowapp.runtime.effects.functions import FunctionEffects
from flowapp.runtime.runtime import Outcome, Runtime
from flowapp.store.sql import SqlStore
from tests.integration.faults import audit, workloads
from tests.integration.faults.processes import FIXTURES, Processes

FUNCTIONS = frozenset({"ledger", "dropper", "crasher"})
COMMUNICATION = "https://serverlessworkflow.io/spec/1.0.0/errors/communication"
TIMEOUT = "https://serverlessworkflow.io/spec/1.0.0/errors/timeout"


def guarded(call: str, *, errors: str, retries: int, fallback: bool = False) -> str:
    """One call inside ``try``, caught by ``errors`` and retried ``retries`` times 20 ms apart;
    with ``fallback``, ``catch.do`` reports the last error's status and type."""
    catch = f"""      catch:
        errors: {{with: {errors}}}
        as: failure
        retry: {{delay: {{milliseconds: 20}}, limit: {{attempt: {{count: {retries}}}}}}}
"""
    if fallback:
        catch += """        do:
          - fallback: {set: {status: '${ $failure.status }', type: '${ $failure.type }'}}
"""
    body = f"do:\n  - guarded:\n      try:\n        - work: {call}\n{catch}"
    return workloads.document("guarded", body)


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], Path]]:
    """The ledger host and the connection dropper, shared by this module's tests; with the
    ledger both write every request to."""
    directory = tmp_path_factory.mktemp("function-failures")
    ledger = directory / "ledger.jsonl"
    started = Processes(directory)
    try:
        _, ledger_url = started.function_host(FIXTURES / "ledger", {"FAULTS_LEDGER": str(ledger)})
        env = {"FAULTS_LEDGER": str(ledger), "FAULTS_SUCCEED_ON": "3"}
        _, dropper_url = started.script(FIXTURES / "dropper.py", env)
        yield {"ledger": ledger_url, "dropper": dropper_url}, ledger
    finally:
        started.cleanup()


async def run(
    store: SqlStore,
    urls: dict[str, str],
    text: str,
    *,
    env: Environment | None = None,
    remote_timeout: float = 30.0,
) -> tuple[str, Outcome, float]:
    """Run one execution to its end; its id, outcome and how long it took."""
    remote = RemoteFunctions(urls, timeout=remote_timeout)
    runtime = Runtime(store, effects=Effects(functions=FunctionEffects(remote)), env=env)
    await runtime.start()
    started = time.monotonic()
    try:
        workflow = workloads.register(store, text, FUNCTIONS)
        execution_id = await runtime.start_execution(workflow, {})
        outcome = await runtime.wait_for(execution_id, timeout=20)
    finally:
        await runtime.stop()
        await remote.close()
    return execution_id, outcome, time.monotonic() - started


def attempts(store: SqlStore, execution_id: str) -> list[tuple[int, str, Any]]:
    """(attempt, status, error status) of each run of the ``work`` task."""
    runs = [r for r in store.task_runs(execution_id) if r.name == "work"]
    return [(r.attempt, r.status, (r.error or {}).get("status")) for r in runs]


def received(ledger: Path, execution_id: str) -> list[tuple[str, int, str | None]]:
    return [
        (d.key, d.attempt, d.op) for d in audit.read_ledger(ledger) if d.execution == execution_id
    ]


@pytest.mark.timeout(60)
async def test_a_503_is_retried_until_the_function_answers(
    hosts: tuple[dict[str, str], Path], sqlite_store: SqlStore
) -> None:
    urls, ledger = hosts
    call = "{call: ledger, with: {op: flaky, succeed_on: 3}}"
    text = guarded(call, errors=f"{{type: {COMMUNICATION}, status: 503}}", retries=3)
    execution_id, outcome, elapsed = await run(sqlite_store, urls, text)
    assert outcome.status == "completed" and outcome.output == {"op": "flaky", "attempt": 3}
    assert attempts(sqlite_store, execution_id) == [
        (1, "faulted", 503),
        (2, "faulted", 503),
        (3, "completed", None),
    ]
    key = f"{execution_id}/do/0/guarded/try/0/work"
    assert received(ledger, execution_id) == [(f"{key}#{n}", n, "flaky") for n in (1, 2, 3)]
    assert elapsed < 5


@pytest.mark.timeout(60)
async def test_a_503_past_the_retry_limit_faults_the_execution(
    hosts: tuple[dict[str, str], Path], sqlite_store: SqlStore
) -> None:
    urls, ledger = hosts
    call = "{call: ledger, with: {op: flaky, succeed_on: 9}}"
    text = guarded(call, errors="{status: 503}", retries=2)
    execution_id, outcome, elapsed = await run(sqlite_store, urls, text)
    assert outcome.status == "faulted" and outcome.error is not None
    assert (outcome.error["type"], outcome.error["status"]) == (COMMUNICATION, 503)
    assert outcome.error["instance"] == "/do/0/guarded/try/0/work"
    assert [a for a, _, _ in attempts(sqlite_store, execution_id)] == [1, 2, 3]
    assert len(received(ledger, execution_id)) == 3
    assert elapsed < 5


@pytest.mark.timeout(60)
@pytest.mark.parametrize("where", ["environment", "remote functions"])
async def test_no_reply_in_time_is_a_timeout_that_is_retried(
    hosts: tuple[dict[str, str], Path], sqlite_store: SqlStore, where: str
) -> None:
    """The timeout comes from ``Environment.function_timeout`` (carried by each call
    command) or, when that is unset, from ``RemoteFunctions(timeout=...)``."""
    urls, _ = hosts
    call = "{call: ledger, with: {op: slow, sleep: 30, succeed_on: 2}}"
    text = guarded(call, errors=f"{{type: {TIMEOUT}}}", retries=2)
    options: dict[str, Any] = (
        {"env": Environment(function_timeout=0.5)}
        if where == "environment"
        else {"remote_timeout": 0.5}
    )
    execution_id, outcome, elapsed = await run(sqlite_store, urls, text, **options)
    assert outcome.status == "completed" and outcome.output == {"op": "slow", "attempt": 2}
    assert attempts(sqlite_store, execution_id) == [(1, "faulted", 408), (2, "completed", None)]
    first = next(r for r in sqlite_store.task_runs(execution_id) if r.name == "work")
    assert first.error is not None and first.error["type"] == TIMEOUT
    assert elapsed < 5  # the 30 s sleep of the first attempt was not waited for


@pytest.mark.timeout(60)
async def test_a_dropped_connection_is_a_503_that_is_retried(
    hosts: tuple[dict[str, str], Path], sqlite_store: SqlStore
) -> None:
    urls, ledger = hosts
    text = guarded("{call: dropper}", errors=f"{{type: {COMMUNICATION}, status: 503}}", retries=3)
    execution_id, outcome, elapsed = await run(sqlite_store, urls, text)
    assert outcome.status == "completed" and outcome.output == {"attempt": 3}
    assert attempts(sqlite_store, execution_id) == [
        (1, "faulted", 503),
        (2, "faulted", 503),
        (3, "completed", None),
    ]
    assert [op for _, _, op in received(ledger, execution_id)] == ["drop", "drop", "reply"]
    assert elapsed < 5


@pytest.mark.timeout(60)
async def test_a_host_killed_mid_call_faults_the_task_and_catch_takes_over(
    processes: Processes, ledger: Path, hosts: tuple[dict[str, str], Path], sqlite_store: SqlStore
) -> None:
    crasher, url = processes.function_host(FIXTURES / "ledger", {"FAULTS_LEDGER": str(ledger)})
    urls = {**hosts[0], "crasher": url}
    call = "{call: crasher, with: {op: crash}}"
    text = guarded(call, errors="{status: 503}", retries=1, fallback=True)
    execution_id, outcome, elapsed = await run(sqlite_store, urls, text)
    # The retry found nobody listening: a 503 as well, and then catch.do ran.
    assert outcome.status == "completed"
    assert outcome.output == {"status": 503, "type": COMMUNICATION}
    assert attempts(sqlite_store, execution_id) == [(1, "faulted", 503), (2, "faulted", 503)]
    assert crasher.popen.wait(timeout=5) == 3  # it died in the middle of the first call
    assert [a for _, a, _ in received(ledger, execution_id)] == [1]
    assert elapsed < 5
