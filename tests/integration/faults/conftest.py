"""Fixtures of the fault tests: processes that are always cleaned up, a ledger file,
and throwaway PostgreSQL databases.

- ``processes``: a ``Processes`` whose survivors are SIGKILLed (whole process groups)
  after the test, whatever happened; on failure their log tails are in the report.
- ``ledger``: the path the ledger function appends its deliveries to, and ``ledger_host``
  a host process serving it.
- ``pg_url``: a database created for one test and dropped after it (``postgres.py``);
  ``pg_store`` and ``sqlite_store``: the test's own migrated store, closed after it.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from flowapp.store.sql import SqlStore
from tests.integration.faults import postgres
from tests.integration.faults.processes import FIXTURES, Processes


@pytest.fixture
def processes(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Processes]:
    started = Processes(tmp_path)
    try:
        yield started
    finally:
        started.cleanup()
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            print(started.tails())  # captured into the failure report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep the outcome of the test's call on its item, for ``processes`` to read."""
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    return tmp_path / "ledger.jsonl"


@pytest.fixture
def ledger_host(processes: Processes, ledger: Path, request: pytest.FixtureRequest) -> str:
    """The URL of a host serving the ledger function. Each reply takes 20 ms (or what a
    ``reply_ms`` mark says), which keeps calls in flight long enough for a kill to catch."""
    mark = request.node.get_closest_marker("reply_ms")
    delay = mark.args[0] if mark is not None else 20
    env = {"FAULTS_LEDGER": str(ledger), "FAULTS_DELAY_MS": str(delay)}
    _, url = processes.function_host(FIXTURES / "ledger", env)
    return url


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "reply_ms(n): the ledger function replies after n ms")


@pytest.fixture
def pg_url(processes: Processes) -> Iterator[str]:
    with postgres.throwaway_database() as url:
        try:
            yield url
        finally:
            # Engines first: they would fill their logs with errors about the dropped database.
            processes.cleanup()


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[SqlStore]:
    """The test's view of its database (the engines under test open their own)."""
    store = SqlStore(pg_url)
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqlStore]:
    store = SqlStore(f"sqlite:///{tmp_path / 'faults.db'}")
    store.migrate()
    yield store
    store.close()
