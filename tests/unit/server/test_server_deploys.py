"""Deploys, revisions, traffic, rollback and source uploads, with and without NDJSON streams."""

from __future__ import annotations

import io
import json
import tarfile
from typing import Any

import httpx

from flowapp.server.platform import DeployView
from flowapp.server.views import LISTED_LOG_CHARACTERS, deploy_json
from tests.platforms import RunningPlatform
from tests.unit.server.harness import HELLO, YAML, create_and_deploy

GZIP = {"Content-Type": "application/gzip"}


def lines(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in response.text.splitlines()]


def project(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


MANIFEST = """\
apiVersion: flowapp.dev/v1alpha1
kind: FlowApp
metadata: {name: hello}
spec:
  functions: {greet: {runtime: python, path: functions/greet}}
  workflowRef: workflow.yaml
"""
WORKFLOW = """\
document: {dsl: '1.0.3', namespace: default, name: hello, version: '1.0.0'}
do:
  - greet: {call: greet}
"""
GREET = {"functions/greet/main.py": "def handle(data, context):\n    return data\n"}


async def test_deploy_answers_the_deploy(client: httpx.AsyncClient) -> None:
    deploy = await create_and_deploy(client, HELLO)
    assert deploy["app"] == "hello" and deploy["status"] == "succeeded"
    assert deploy["revision"] == "hello-00001"
    assert set(deploy) == {
        "id", "app", "revision", "status", "message", "log", "log_truncated", "started_at",
        "ended_at",
    }  # fmt: skip


async def test_deploy_streams_progress_then_the_deploy(client: httpx.AsyncClient) -> None:
    await client.post("/api/v1/apps", content=HELLO, headers=YAML)
    response = await client.post("/api/v1/apps/hello/deploys", params={"stream": "true"})
    assert response.status_code == 200
    *progress, last = lines(response)
    assert progress and all(set(line) == {"progress"} for line in progress)
    assert last["deploy"]["status"] == "succeeded"


async def test_a_failed_deploy_streams_a_problem_last(
    client: httpx.AsyncClient, running: RunningPlatform
) -> None:
    await create_and_deploy(client, HELLO)
    running.functions.fail_starts = "function greet exited with 1"
    changed = HELLO.replace("Hello, ", "Hi, ")
    await client.put("/api/v1/apps/hello", content=changed, headers=YAML)
    response = await client.post("/api/v1/apps/hello/deploys", params={"stream": "true"})
    last = lines(response)[-1]
    assert last["error"]["status"] == 422
    assert last["error"]["title"] == "Deploy Failed"
    assert "exited with 1" in last["error"]["detail"]
    assert last["error"]["instance"] == "/api/v1/apps/hello/deploys"
    status = (await client.get("/api/v1/apps/hello/status")).json()
    assert status["deployed_revision"] == "hello-00001"  # the previous one keeps serving


async def test_a_failed_deploy_without_stream_is_a_problem(
    client: httpx.AsyncClient, running: RunningPlatform
) -> None:
    await client.post("/api/v1/apps", content=HELLO, headers=YAML)
    running.functions.fail_starts = "boom"
    response = await client.post("/api/v1/apps/hello/deploys")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_deploying_an_unknown_app_is_404_even_when_streaming(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/api/v1/apps/ghost/deploys", params={"stream": "true"})
    assert response.status_code == 404


async def test_revisions_deploys_traffic_and_rollback(client: httpx.AsyncClient) -> None:
    await create_and_deploy(client, HELLO)
    await client.put("/api/v1/apps/hello", content=HELLO.replace("Hello", "Hi"), headers=YAML)
    await client.post("/api/v1/apps/hello/deploys")
    revisions = (await client.get("/api/v1/apps/hello/revisions")).json()["items"]
    assert [r["id"] for r in revisions] == ["hello-00002", "hello-00001"]
    deploys = (await client.get("/api/v1/apps/hello/deploys")).json()["items"]
    assert [d["revision"] for d in deploys] == ["hello-00002", "hello-00001"]
    split = [{"revision": "hello-00001", "percent": 10}, {"revision": "hello-00002", "percent": 90}]
    assert (await client.put("/api/v1/apps/hello/traffic", json=split)).json() == split
    assert (await client.get("/api/v1/apps/hello/traffic")).json() == split
    rolled = (await client.post("/api/v1/apps/hello/rollback")).json()
    assert rolled == [{"revision": "hello-00001", "percent": 100}]
    assert (await client.post("/api/v1/apps/hello/rollback")).status_code == 409


async def test_one_deploy_is_read_whole_and_a_list_shows_the_end_of_each_log(
    client: httpx.AsyncClient,
) -> None:
    await create_and_deploy(client, HELLO)
    (listed,) = (await client.get("/api/v1/apps/hello/deploys")).json()["items"]
    one = await client.get(f"/api/v1/apps/hello/deploys/{listed['id']}")
    assert one.status_code == 200 and one.json() == listed
    assert listed["log_truncated"] is False
    assert (await client.get("/api/v1/apps/hello/deploys/999")).status_code == 404
    assert (await client.get(f"/api/v1/apps/ghost/deploys/{listed['id']}")).status_code == 404


def test_a_long_deploy_log_is_cut_to_its_end_in_lists() -> None:
    log = "".join(f"line {n}\n" for n in range(2_000))
    view = DeployView(1, "hello", "hello-00001", "failed", "boom", log, 0.0, 1.0)
    listed = deploy_json(view, log_limit=LISTED_LOG_CHARACTERS)
    assert listed["log_truncated"] is True and log.endswith(listed["log"])
    assert len(listed["log"]) == LISTED_LOG_CHARACTERS
    whole = deploy_json(view)
    assert whole["log"] == log and whole["log_truncated"] is False


async def test_invalid_traffic_is_refused(client: httpx.AsyncClient) -> None:
    await create_and_deploy(client, HELLO)
    short = [{"revision": "hello-00001", "percent": 50}]
    assert (await client.put("/api/v1/apps/hello/traffic", json=short)).status_code == 400
    ghost = [{"revision": "ghost-00001", "percent": 100}]
    assert (await client.put("/api/v1/apps/hello/traffic", json=ghost)).status_code == 400
    over = [{"revision": "hello-00001", "percent": 101}]
    assert (await client.put("/api/v1/apps/hello/traffic", json=over)).status_code == 422
    extra = [{"revision": "hello-00001", "percent": 100, "weight": 1}]
    assert (await client.put("/api/v1/apps/hello/traffic", json=extra)).status_code == 422


async def test_upload_source_creates_and_deploys(client: httpx.AsyncClient) -> None:
    archive = project(
        {"flowapp.yaml": MANIFEST, "workflow.yaml": WORKFLOW, "x/y.py": "pass\n", **GREET}
    )
    response = await client.put("/api/v1/apps/hello/source", content=archive, headers=GZIP)
    assert response.status_code == 200, response.text
    assert response.json()["revision"] == "hello-00001"
    app = (await client.get("/api/v1/apps/hello")).json()
    assert app["deployed_revision"] == "hello-00001"


async def test_upload_source_streams(client: httpx.AsyncClient) -> None:
    archive = project({"flowapp.yaml": MANIFEST, "workflow.yaml": WORKFLOW, **GREET})
    response = await client.put(
        "/api/v1/apps/hello/source", params={"stream": "true"}, content=archive, headers=GZIP
    )
    found = lines(response)
    assert found[0] == {"progress": "received 3 files"}
    assert found[-1]["deploy"]["status"] == "succeeded"


async def test_an_invalid_project_streams_its_problems(client: httpx.AsyncClient) -> None:
    archive = project(
        {"flowapp.yaml": MANIFEST, "workflow.yaml": WORKFLOW + "  - x: {y: 1}\n", **GREET}
    )
    response = await client.put(
        "/api/v1/apps/hello/source", params={"stream": "true"}, content=archive, headers=GZIP
    )
    error = lines(response)[-1]["error"]
    assert error["status"] == 422
    assert error["problems"][0]["file"] == "workflow.yaml"


async def test_an_archive_that_is_not_gzip_is_400(client: httpx.AsyncClient) -> None:
    response = await client.put("/api/v1/apps/hello/source", content=b"PK\x03\x04", headers=GZIP)
    assert response.status_code == 400
    assert "gzip" in response.json()["detail"]
