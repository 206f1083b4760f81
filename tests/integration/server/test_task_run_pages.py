"""Paging an execution's task runs over HTTP, on SQLite and PostgreSQL: the first page
inline in ``GET /executions/{id}``, the rest from ``/tasks?cursor=``; every task run
exactly once, in order, also while the execution goes on adding and ending runs."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from flowapp.runtime.secrets import AppSecrets, KeyRing
from flowapp.store import Checkpoint, ExecutionRecord, Store, TaskRunRecord, open_store
from flowapp.store.platform import open_platform_store
from tests.platforms import ServedPlatform
from tests.postgres import new_database

T0 = 1_700_000_000.0


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with new_database(request.param, tmp_path, "flowapp_pages") as url:
        yield url


@pytest.fixture
def api(database: str, tmp_path: Path) -> Iterator[tuple[httpx.Client, Store]]:
    store, platform_store = open_store(database), open_platform_store(database)
    store.migrate()
    platform_store.migrate()
    _, admin = platform_store.create_token("admin", role="admin", now=time.time())
    served = ServedPlatform(
        tmp_path / "data",
        store=store,
        platform_store=platform_store,
        secrets=AppSecrets(platform_store, KeyRing((os.urandom(32),))),
    )
    try:
        with served as server:
            headers = {"Authorization": f"Bearer {admin}"}
            with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
                yield client, store
    finally:
        store.close()
        platform_store.close()


def run(n: int, status: str = "completed") -> TaskRunRecord:
    return TaskRunRecord(
        execution_id="big",
        id=n,
        parent_id=None,
        reference=f"/do/{n % 5}/step",
        occurrence=f"/do/{n % 5}/step",
        name=f"step{n % 5}",
        status=status,
        input={"n": n},
        output={"n": n} if status == "completed" else None,
        attempt=1,
        started_at=T0 + n,
        ended_at=T0 + n if status == "completed" else None,
    )


def add_runs(store: Store, runs: list[TaskRunRecord]) -> None:
    store.commit([Checkpoint("big", "running", None, T0, task_runs=runs)])


def test_pages_hold_every_task_run_once_in_order(api: tuple[httpx.Client, Store]) -> None:
    client, store = api
    store.create_execution(
        ExecutionRecord("big", "wf", "running", {}, T0), Checkpoint("big", "running", {}, T0)
    )
    add_runs(store, [run(n) for n in range(1, 1201)] + [run(1201, "running")])

    first = client.get("/api/v1/executions/big").json()
    assert first["task_count"] == 1201 and len(first["tasks"]) == 500
    seen = {task["id"]: task["status"] for task in first["tasks"]}
    order = [task["id"] for task in first["tasks"]]
    cursor = first["tasks_next_cursor"]
    pages = 0
    while cursor is not None:
        if pages == 1:  # the execution goes on meanwhile: one run ends, more start
            add_runs(store, [run(1201)] + [run(n, "running") for n in range(1202, 1251)])
        answer = client.get("/api/v1/executions/big/tasks", params={"cursor": cursor, "limit": 97})
        assert answer.status_code == 200, answer.text
        page = answer.json()
        order += [task["id"] for task in page["items"]]
        seen.update({task["id"]: task["status"] for task in page["items"]})
        cursor, pages = page["next_cursor"], pages + 1

    assert order == list(range(1, 1251))  # each once, in the order they started
    assert seen[1201] == "completed" and seen[1250] == "running"
    assert pages == -(-750 // 97)
    smaller = client.get("/api/v1/executions/big", params={"tasks_limit": 10}).json()
    assert [task["id"] for task in smaller["tasks"]] == list(range(1, 11))
    assert smaller["tasks_next_cursor"] == "10" and smaller["task_count"] == 1250
