"""The two execution contracts, exactly: invoking (200 / the error's status / 202 with
Location) and reading an execution with its task runs; listing and control."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from flowapp.functions.sdk import FunctionError
from tests.platforms import RunningPlatform
from tests.unit.server.harness import FAULTY, SLOW, create_and_deploy

EXECUTION_KEYS = {
    "id", "app", "revision", "status", "input", "output", "error", "started_at", "ended_at",
    "parent_id", "rerun_of",
}  # fmt: skip
TASK_KEYS = {
    "id", "parent_id", "name", "reference", "occurrence", "status", "input", "output", "error",
    "attempt", "started_at", "ended_at", "revision",
}  # fmt: skip


async def invoke(client: httpx.AsyncClient, app: str, body: Any, **params: Any) -> httpx.Response:
    return await client.post(f"/api/v1/apps/{app}/executions", json=body, params=params)


async def test_completed_in_time_is_200_with_the_output(
    client: httpx.AsyncClient, hello: dict[str, Any]
) -> None:
    response = await invoke(client, "hello", {"name": "Ada"}, wait=5)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"id", "status", "output"}
    assert body["status"] == "completed"
    assert body["output"] == {"greeting": "Hello, Ada!"}


async def test_faulted_in_time_answers_with_the_error_status(client: httpx.AsyncClient) -> None:
    await create_and_deploy(client, FAULTY)
    response = await invoke(client, "faulty", {}, wait="PT5S")
    assert response.status_code == 409
    body = response.json()
    assert set(body) == {"id", "status", "error"}
    assert body["status"] == "faulted"
    assert body["error"]["type"] == "https://example.com/errors/bad-order"
    assert body["error"]["status"] == 409


BOOM = """\
apiVersion: flowapp.dev/v1alpha1
kind: FlowApp
metadata: {name: boom}
spec:
  functions: {explode: {runtime: python, path: functions/explode}}
  workflow:
    document: {dsl: '1.0.3', namespace: default, name: boom, version: '1.0.0'}
    do:
      - explode: {call: explode}
"""


@pytest.mark.parametrize(
    ("status", "expected"), [(400, 400), (503, 503), (None, 500), ("400", 500)]
)
async def test_a_function_fault_answers_its_status_or_500(
    client: httpx.AsyncClient, running: RunningPlatform, status: object, expected: int
) -> None:
    def explode(data: Any, context: Any) -> Any:
        if isinstance(status, int):
            raise FunctionError(status, "Exploded")
        raise RuntimeError(f"Exploded with the status {status!r}, which is none")

    running.functions.handlers["explode"] = explode
    await create_and_deploy(client, BOOM)
    response = await invoke(client, "boom", {"x": 1}, wait=5)
    assert response.status_code == expected
    assert response.json()["status"] == "faulted"
    # A function's error reply is a communication error with its status, which names it.
    assert "Exploded" in response.json()["error"]["detail"]


async def test_functions_get_their_input(
    client: httpx.AsyncClient, running: RunningPlatform
) -> None:
    running.functions.handlers["explode"] = lambda data, context: {"got": data}
    await create_and_deploy(client, BOOM)
    response = await invoke(client, "boom", {"x": 1}, wait=5)
    assert response.json() == {
        "id": response.json()["id"],
        "status": "completed",
        "output": {"got": {"x": 1}},
    }


async def test_still_running_after_wait_is_202_with_location(
    client: httpx.AsyncClient, running: RunningPlatform
) -> None:
    called, release = asyncio.Event(), asyncio.Event()

    async def explode(data: Any, context: Any) -> Any:  # running until released
        called.set()
        await release.wait()
        return data

    running.functions.handlers["explode"] = explode
    await create_and_deploy(client, BOOM)
    response = await invoke(client, "boom", {}, wait=0.05)
    assert called.is_set()
    release.set()
    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"id", "status"} and body["status"] == "running"
    assert response.headers["location"] == f"/api/v1/executions/{body['id']}"


async def test_without_wait_it_is_always_202(
    client: httpx.AsyncClient, hello: dict[str, Any]
) -> None:
    response = await invoke(client, "hello", {"name": "Ada"})
    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"id", "status"}
    assert response.headers["location"] == f"/api/v1/executions/{body['id']}"


@pytest.mark.parametrize("wait", ["-1", "soon", "100000", "nan"])
async def test_an_invalid_wait_is_422(
    client: httpx.AsyncClient, hello: dict[str, Any], wait: str
) -> None:
    response = await invoke(client, "hello", {}, wait=wait)
    assert response.status_code == 422
    assert response.json()["problems"][0]["pointer"] == "/wait"


async def test_input_errors(client: httpx.AsyncClient, hello: dict[str, Any]) -> None:
    not_json = await client.post("/api/v1/apps/hello/executions", content=b"name=Ada")
    assert not_json.status_code == 400
    unknown = await invoke(client, "ghost", {})
    assert unknown.status_code == 404
    undeployed = await client.post(
        "/api/v1/apps", content=FAULTY, headers={"Content-Type": "application/yaml"}
    )
    assert undeployed.status_code == 201
    assert (await invoke(client, "faulty", {})).status_code == 409


async def test_an_empty_body_is_a_null_input(
    client: httpx.AsyncClient, hello: dict[str, Any]
) -> None:
    response = await client.post("/api/v1/apps/hello/executions", params={"wait": 1})
    assert response.json()["output"] == {"greeting": "Hello, !"}  # jq: "a" + null == "a"
    found = await client.get(f"/api/v1/executions/{response.json()['id']}")
    assert found.json()["input"] is None


async def test_get_execution_has_exactly_the_contract_keys(
    client: httpx.AsyncClient, hello: dict[str, Any]
) -> None:
    started = (await invoke(client, "hello", {"name": "Ada"}, wait=5)).json()
    response = await client.get(f"/api/v1/executions/{started['id']}")
    assert response.status_code == 200
    execution = response.json()
    assert set(execution) == EXECUTION_KEYS | {"tasks", "task_count", "tasks_next_cursor"}
    assert (execution["task_count"], execution["tasks_next_cursor"]) == (1, None)
    assert execution["app"] == "hello" and execution["revision"] == "hello-00001"
    assert execution["status"] == "completed"
    assert execution["input"] == {"name": "Ada"}
    assert execution["output"] == {"greeting": "Hello, Ada!"}
    assert execution["started_at"].endswith("Z") and execution["ended_at"].endswith("Z")
    [task] = execution["tasks"]
    assert set(task) == TASK_KEYS
    assert (task["name"], task["reference"], task["status"]) == (
        "greet",
        "/do/0/greet",
        "completed",
    )
    assert task["attempt"] == 1


async def test_task_runs_are_in_the_order_they_ran(client: httpx.AsyncClient) -> None:
    await create_and_deploy(client, SLOW)
    started = (await invoke(client, "slow", {}, wait=5)).json()
    assert started["status"] == "completed"
    tasks = (await client.get(f"/api/v1/executions/{started['id']}")).json()["tasks"]
    assert [task["name"] for task in tasks] == ["nap", "done"]
    assert tasks[0]["started_at"] <= tasks[1]["started_at"]


async def test_a_faulted_execution_shows_its_error(client: httpx.AsyncClient) -> None:
    await create_and_deploy(client, FAULTY)
    started = (await invoke(client, "faulty", {}, wait=5)).json()
    execution = (await client.get(f"/api/v1/executions/{started['id']}")).json()
    assert execution["status"] == "faulted"
    assert execution["error"]["title"] == "Bad order"
    assert execution["tasks"][0]["status"] == "faulted"


async def test_an_unknown_execution_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/executions/nope")).status_code == 404


async def test_list_filters_and_pages(client: httpx.AsyncClient, hello: dict[str, Any]) -> None:
    await create_and_deploy(client, FAULTY)
    for name in ("a", "b", "c"):
        await invoke(client, "hello", {"name": name}, wait=5)
    await invoke(client, "faulty", {}, wait=5)
    everything = (await client.get("/api/v1/executions")).json()
    assert len(everything["items"]) == 4 and everything["next_cursor"] is None
    assert all(set(item) == EXECUTION_KEYS for item in everything["items"])
    faulted = (await client.get("/api/v1/executions", params={"status": "faulted"})).json()
    assert [item["app"] for item in faulted["items"]] == ["faulty"]
    first = (await client.get("/api/v1/executions", params={"app": "hello", "limit": 2})).json()
    assert [item["input"]["name"] for item in first["items"]] == ["c", "b"]
    params = {"app": "hello", "limit": 2, "cursor": first["next_cursor"]}
    rest = (await client.get("/api/v1/executions", params=params)).json()
    assert [item["input"]["name"] for item in rest["items"]] == ["a"]
    assert rest["next_cursor"] is None


async def test_list_by_start_time(client: httpx.AsyncClient, hello: dict[str, Any]) -> None:
    started = (await invoke(client, "hello", {"name": "x"}, wait=5)).json()
    when = (await client.get(f"/api/v1/executions/{started['id']}")).json()["started_at"]
    after = {"started_after": "2000-01-01T00:00:00Z"}
    assert len((await client.get("/api/v1/executions", params=after)).json()["items"]) == 1
    before = {"started_before": "2000-01-01T00:00:00"}
    assert (await client.get("/api/v1/executions", params=before)).json()["items"] == []
    assert when.startswith("20")
    bad = await client.get("/api/v1/executions", params={"started_after": "yesterday"})
    assert bad.status_code == 422


async def test_list_by_id_prefix(client: httpx.AsyncClient, hello: dict[str, Any]) -> None:
    started = (await invoke(client, "hello", {"name": "x"}, wait=5)).json()["id"]
    await invoke(client, "hello", {"name": "y"}, wait=5)
    found = await client.get("/api/v1/executions", params={"id_prefix": started[:20]})
    assert [item["id"] for item in found.json()["items"]] == [started]
    none = await client.get("/api/v1/executions", params={"id_prefix": "zz"})
    assert none.json()["items"] == []
    wildcard = await client.get("/api/v1/executions", params={"id_prefix": "%"})
    assert wildcard.status_code == 422


async def test_a_foreign_cursor_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/executions", params={"cursor": "!!not-ours"})
    assert response.status_code == 422
    assert response.json()["problems"][0]["pointer"] == "/cursor"


async def test_an_idempotency_key_starts_one_execution(
    client: httpx.AsyncClient, hello: dict[str, Any]
) -> None:
    headers = {"Idempotency-Key": "order-42"}
    url = "/api/v1/apps/hello/executions"
    first = await client.post(url, json={"name": "a"}, headers=headers)
    second = await client.post(url, json={"name": "a"}, headers=headers)
    assert first.json()["id"] == second.json()["id"]


async def test_cancel_suspend_resume(client: httpx.AsyncClient) -> None:
    await create_and_deploy(client, SLOW)
    first = (await invoke(client, "slow", {})).json()["id"]
    suspended = await client.post(f"/api/v1/executions/{first}/suspend")
    assert suspended.status_code == 202
    assert suspended.json() == {"id": first, "action": "suspend"}
    assert (await client.get(f"/api/v1/executions/{first}")).json()["status"] == "suspended"
    assert (await client.post(f"/api/v1/executions/{first}/resume")).status_code == 202
    assert (await client.post(f"/api/v1/executions/{first}/cancel")).status_code == 202
    assert (await client.get(f"/api/v1/executions/{first}")).json()["status"] == "cancelled"
    again = await client.post(f"/api/v1/executions/{first}/cancel")
    assert again.status_code == 409
    assert (await client.post("/api/v1/executions/nope/cancel")).status_code == 404


async def test_a_resumed_execution_completes(client: httpx.AsyncClient) -> None:
    await create_and_deploy(client, SLOW)
    execution = (await invoke(client, "slow", {})).json()["id"]
    await client.post(f"/api/v1/executions/{execution}/suspend")
    await client.post(f"/api/v1/executions/{execution}/resume")
    async with asyncio.timeout(5):
        while (await client.get(f"/api/v1/executions/{execution}")).json()["status"] != (
            "completed"
        ):
            await asyncio.sleep(0.05)


async def test_retry_only_a_faulted_execution(
    client: httpx.AsyncClient, hello: dict[str, Any]
) -> None:
    await create_and_deploy(client, FAULTY)
    faulted = (await invoke(client, "faulty", {}, wait=5)).json()["id"]
    completed = (await invoke(client, "hello", {"name": "x"}, wait=5)).json()["id"]
    retried = await client.post(f"/api/v1/executions/{faulted}/retry")
    assert retried.status_code == 202
    revision = "faulty-00001"  # the serving revision is the execution's own
    assert retried.json() == {
        "id": faulted,
        "action": "retry",
        "revision": revision,
        "previous_revision": revision,
    }
    assert (await client.post(f"/api/v1/executions/{completed}/retry")).status_code == 409


async def test_rerun_answers_the_new_execution(
    client: httpx.AsyncClient, hello: dict[str, Any]
) -> None:
    first = (await invoke(client, "hello", {"name": "x"}, wait=5)).json()["id"]
    response = await client.post(f"/api/v1/executions/{first}/rerun")
    assert response.status_code == 202
    body = response.json()
    assert body["rerun_of"] == first and body["id"] != first
    assert body["revision"] == "hello-00001"
    assert response.headers["location"] == f"/api/v1/executions/{body['id']}"
    rerun = (await client.get(f"/api/v1/executions/{body['id']}")).json()
    assert rerun["input"] == {"name": "x"}


async def test_rerun_with_an_edited_input(client: httpx.AsyncClient, hello: dict[str, Any]) -> None:
    first = (await invoke(client, "hello", {"name": "x"}, wait=5)).json()["id"]
    edited = await client.post(f"/api/v1/executions/{first}/rerun", json={"name": "Ada"})
    assert edited.status_code == 202, edited.text
    assert edited.json()["rerun_of"] == first
    shown = (await client.get(f"/api/v1/executions/{edited.json()['id']}")).json()
    assert shown["input"] == {"name": "Ada"} and shown["rerun_of"] == first
    # `null` is an input like any other; only an empty body keeps the earlier one.
    nulled = await client.post(
        f"/api/v1/executions/{first}/rerun",
        content=b"null",
        headers={"content-type": "application/json"},
    )
    assert (await client.get(f"/api/v1/executions/{nulled.json()['id']}")).json()["input"] is None
    empty = await client.post(f"/api/v1/executions/{first}/rerun", content=b"  \n")
    kept = (await client.get(f"/api/v1/executions/{empty.json()['id']}")).json()
    assert kept["input"] == {"name": "x"}


async def test_rerun_refuses_an_input_that_is_not_json(
    client: httpx.AsyncClient, hello: dict[str, Any]
) -> None:
    first = (await invoke(client, "hello", {"name": "x"}, wait=5)).json()["id"]
    before = (await client.get("/api/v1/executions")).json()["items"]
    refused = await client.post(f"/api/v1/executions/{first}/rerun", content=b'{"name": ')
    assert refused.status_code == 400
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "line 1" in refused.text or refused.json().get("problems"), refused.text
    assert (await client.get("/api/v1/executions")).json()["items"] == before
