"""What a run view reads of an execution: task runs a page at a time, the workflow of its
own revision, its sub-workflows, the input text filter, and the live stream (Server-Sent
Events) of its changes, each within the token's apps."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from flowapp.server.settings import ServerSettings
from flowapp.store.memory import MemoryStore
from flowapp.store.platform import MemoryPlatformStore
from flowapp.store.port import Checkpoint, ExecutionRecord, TaskRunRecord
from tests.unit.server.harness import HELLO, make_client

T0 = 1_700_000_000.0


@pytest.fixture
def settings() -> ServerSettings:
    return ServerSettings(stream_poll_seconds=0.01, task_page=4)


def execution(store: MemoryStore, execution_id: str, **changes: Any) -> ExecutionRecord:
    values: dict[str, Any] = {
        "id": execution_id,
        "workflow_id": "wf",
        "status": "running",
        "input": {"name": "Ada"},
        "created_at": T0,
        "started_at": T0,
        "updated_at": T0,
        "app": "shop",
    }
    record = ExecutionRecord(**(values | changes))
    store.create_execution(record, Checkpoint(execution_id, record.status, {}, T0))
    return record


def run(execution_id: str, run_id: int, status: str = "running", **changes: Any) -> TaskRunRecord:
    ended = T0 + run_id + 0.5 if status != "running" else None
    values: dict[str, Any] = {
        "execution_id": execution_id,
        "id": run_id,
        "parent_id": None,
        "reference": f"/do/{run_id}/step{run_id}",
        "occurrence": f"/do/{run_id}/step{run_id}",
        "name": f"step{run_id}",
        "status": status,
        "input": {"n": run_id},
        "attempt": 1,
        "started_at": T0 + run_id,
        "ended_at": ended,
    }
    return TaskRunRecord(**(values | changes))


def commit(store: MemoryStore, execution_id: str, *runs: TaskRunRecord, status: str = "running"):
    final = status in ("completed", "faulted", "cancelled")
    store.commit(
        [
            Checkpoint(
                execution_id,
                status,
                {},
                time.time(),
                task_runs=list(runs),
                ended_at=time.time() if final else None,
            )
        ]
    )


def watch_polls(store: MemoryStore) -> list[float]:
    """The times the store's execution was read (each poll of a stream reads it once)."""
    polls: list[float] = []
    read = store.get_execution

    def counted(execution_id: str) -> ExecutionRecord | None:
        polls.append(time.monotonic())
        return read(execution_id)

    store.get_execution = counted  # type: ignore[method-assign]
    return polls


def events(body: str) -> list[tuple[str, Any]]:
    """The (event, data) pairs of a text/event-stream body; comments left out."""
    found = []
    for block in body.split("\n\n"):
        lines = [line for line in block.splitlines() if line and not line.startswith(":")]
        if not lines:
            continue
        fields = dict(line.split(": ", 1) for line in lines)
        found.append((fields["event"], json.loads(fields["data"])))
    return found


async def test_task_runs_come_a_page_at_a_time(
    client: httpx.AsyncClient, store: MemoryStore
) -> None:
    execution(store, "e1")
    commit(store, "e1", *[run("e1", n, "completed") for n in range(1, 10)])
    shown = (await client.get("/api/v1/executions/e1")).json()
    assert [task["id"] for task in shown["tasks"]] == [1, 2, 3, 4]  # the settings' page
    assert shown["task_count"] == 9 and shown["tasks_next_cursor"] == "4"
    assert shown["tasks"][0]["occurrence"] == "/do/1/step1"
    assert shown["tasks"][0]["parent_id"] is None
    seen = [task["id"] for task in shown["tasks"]]
    cursor = shown["tasks_next_cursor"]
    while cursor is not None:
        page = (
            await client.get("/api/v1/executions/e1/tasks", params={"cursor": cursor, "limit": 3})
        ).json()
        seen += [task["id"] for task in page["items"]]
        cursor = page["next_cursor"]
    assert seen == list(range(1, 10))
    whole = (await client.get("/api/v1/executions/e1", params={"tasks_limit": 9})).json()
    assert len(whole["tasks"]) == 9 and whole["tasks_next_cursor"] is None
    assert whole["task_count"] == 9


@pytest.mark.parametrize("cursor", ["-1", "x", "1.5", "9" * 16])
async def test_a_cursor_that_is_not_one_is_refused(
    client: httpx.AsyncClient, store: MemoryStore, cursor: str
) -> None:
    execution(store, "e1")
    answer = await client.get("/api/v1/executions/e1/tasks", params={"cursor": cursor})
    assert answer.status_code == 422


async def test_the_workflow_is_the_one_the_execution_ran(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/api/v1/apps", content=HELLO, headers={"content-type": "application/yaml"}
    )
    assert created.status_code == 201
    assert (await client.post("/api/v1/apps/hello/deploys")).status_code == 201
    first = (await client.post("/api/v1/apps/hello/executions", json={"name": "a"})).json()
    changed = HELLO.replace("Hello, ", "Hi, ").replace("greet", "welcome")
    replaced = await client.put(
        "/api/v1/apps/hello", content=changed, headers={"content-type": "application/yaml"}
    )
    assert replaced.status_code == 200, replaced.text
    assert (await client.post("/api/v1/apps/hello/deploys")).status_code == 201
    second = (await client.post("/api/v1/apps/hello/executions", json={"name": "b"})).json()
    old = (await client.get(f"/api/v1/executions/{first['id']}/workflow")).json()
    new = (await client.get(f"/api/v1/executions/{second['id']}/workflow")).json()
    assert (old["revision"], new["revision"]) == ("hello-00001", "hello-00002")
    assert list(old["document"]["do"][0]) == ["greet"]
    assert list(new["document"]["do"][0]) == ["welcome"]
    assert old["name"] == "hello" and old["execution"] == first["id"]


async def test_sub_workflows_are_listed_with_their_workflow(
    client: httpx.AsyncClient, store: MemoryStore
) -> None:
    from flowapp.store.port import WorkflowRecord

    store.save_workflow(WorkflowRecord("child-wf", "default", "charge", "1.0.0", {"do": []}))
    execution(store, "parent")
    execution(store, "c1", parent_id="parent", workflow_id="child-wf", created_at=T0 + 1)
    execution(store, "c2", parent_id="parent", workflow_id="child-wf", created_at=T0 + 2)
    execution(store, "stranger", parent_id="other", created_at=T0 + 3)
    listed = (await client.get("/api/v1/executions/parent/children")).json()["items"]
    assert [item["id"] for item in listed] == ["c1", "c2"]
    assert listed[0]["workflow"] == {"namespace": "default", "name": "charge", "version": "1.0.0"}
    assert listed[0]["parent_id"] == "parent"


async def test_executions_are_found_by_text_in_their_input(
    client: httpx.AsyncClient, store: MemoryStore
) -> None:
    execution(store, "e1", input={"customer": "Ada Lovelace"})
    execution(store, "e2", input={"customer": "Grace"}, created_at=T0 + 1)
    found = await client.get("/api/v1/executions", params={"input_contains": "lovelace"})
    assert [item["id"] for item in found.json()["items"]] == ["e1"]
    too_long = await client.get("/api/v1/executions", params={"input_contains": "x" * 201})
    assert too_long.status_code == 422


async def test_the_stream_sends_every_change_until_the_execution_ends(
    client: httpx.AsyncClient, store: MemoryStore
) -> None:
    execution(store, "e1", status="pending")
    polls = watch_polls(store)

    async def seen_by_the_stream() -> None:
        # Two more polls: one surely began after the change.
        target = len(polls) + 2
        while len(polls) < target:
            await asyncio.sleep(0.005)

    async def move_on() -> None:
        await seen_by_the_stream()
        commit(store, "e1", run("e1", 1))
        await seen_by_the_stream()
        commit(store, "e1", run("e1", 1, "completed"), run("e1", 2))
        await seen_by_the_stream()
        commit(store, "e1", run("e1", 2, "completed"), status="completed")

    mover = asyncio.create_task(move_on())
    answer = await client.get("/api/v1/executions/e1/stream", timeout=10)
    await mover
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    seen = events(answer.text)
    statuses = [data["status"] for kind, data in seen if kind == "execution"]
    assert statuses[0] == "pending" and statuses[-1] == "completed"
    runs: dict[int, list[str]] = {}
    for kind, data in seen:
        if kind == "tasks":
            for item in data["items"]:
                runs.setdefault(item["id"], []).append(item["status"])
    assert runs == {1: ["running", "completed"], 2: ["running", "completed"]}
    assert seen[-1] == ("end", {"status": "completed"})
    # The last runs come before the execution says it ended.
    last_tasks = max(i for i, (kind, _) in enumerate(seen) if kind == "tasks")
    assert last_tasks < len(seen) - 2 and seen[-2][0] == "execution"


async def test_the_stream_of_an_ended_execution_is_its_runs_after_the_given_id(
    client: httpx.AsyncClient, store: MemoryStore
) -> None:
    execution(store, "e1")
    commit(store, "e1", *[run("e1", n, "completed") for n in range(1, 1202)], status="faulted")
    answer = await client.get("/api/v1/executions/e1/stream", params={"after": 100})
    seen = events(answer.text)
    batches = [len(data["items"]) for kind, data in seen if kind == "tasks"]
    assert batches == [500, 500, 101]
    ids = [item["id"] for kind, data in seen if kind == "tasks" for item in data["items"]]
    assert ids == list(range(101, 1202))
    assert [kind for kind, _ in seen[-2:]] == ["execution", "end"]
    assert seen[-1][1] == {"status": "faulted"}


async def test_the_stream_ends_when_the_server_stops(
    api: FastAPI, client: httpx.AsyncClient, store: MemoryStore
) -> None:
    from flowapp.server.deps import stop_streams

    execution(store, "e1")
    asyncio.get_running_loop().call_later(0.2, stop_streams, api)
    answer = await client.get("/api/v1/executions/e1/stream", timeout=10)
    assert [kind for kind, _ in events(answer.text)] == ["execution"]  # no end: it runs on


async def test_a_token_of_other_apps_sees_no_execution_of_this_one(
    api: FastAPI, store: MemoryStore, platform_store: MemoryPlatformStore
) -> None:
    execution(store, "e1", status="completed")
    _, other = platform_store.create_token("ci", role="viewer", now=time.time(), apps=["bank"])
    _, own = platform_store.create_token("shop", role="viewer", now=time.time(), apps=["shop"])
    paths = ["", "/tasks", "/workflow", "/children", "/stream"]
    async with make_client(api, other) as stranger, make_client(api, own) as member:
        for path in paths:
            refused = await stranger.get(f"/api/v1/executions/e1{path}")
            assert refused.status_code == 404, path
            assert refused.headers["content-type"] == "application/problem+json"
        assert (await member.get("/api/v1/executions/e1/stream")).status_code == 200
        assert (await member.get("/api/v1/executions/e1/tasks")).status_code == 200
        # The workflow is not kept (made by hand here): a 404 that says so.
        missing = await member.get("/api/v1/executions/e1/workflow")
        assert "not kept" in missing.json()["detail"]
    async with make_client(api, None) as anonymous:
        assert (await anonymous.get("/api/v1/executions/e1/stream")).status_code == 401
