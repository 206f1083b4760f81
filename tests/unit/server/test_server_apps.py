"""Apps: create from YAML or JSON (FlowApp or plain workflow), read, replace, delete, validate."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.platforms import RunningPlatform
from tests.unit.server.harness import HELLO, YAML

FLOWAPP = """\
apiVersion: flowapp.dev/v1alpha1
kind: FlowApp
metadata: {name: append-display}
spec:
  functions:
    append: {runtime: python, path: functions/append}
  triggers:
    - name: api
      http: {path: /hooks/append, public: true}
  workflow:
    document: {dsl: '1.0.3', namespace: default, name: append-display, version: '1.0.0'}
    do:
      - append: {call: append, with: {suffix: "!"}}
"""


async def test_create_a_plain_workflow_wraps_it(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/apps", content=HELLO, headers=YAML)
    assert response.status_code == 201
    assert response.headers["location"] == "/api/v1/apps/hello"
    app = response.json()
    assert app["name"] == "hello" and app["namespace"] == "default"
    assert app["resource"]["kind"] == "FlowApp"
    assert app["deployed_revision"] is None and app["traffic"] == []
    assert app["created_at"].endswith("Z")


async def test_create_a_flowapp_from_json(client: httpx.AsyncClient) -> None:
    from ruamel.yaml import YAML as Parser

    resource = Parser(typ="safe").load(FLOWAPP)
    response = await client.post("/api/v1/apps", json=resource)
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "append-display"


async def test_a_name_taken_is_409(client: httpx.AsyncClient) -> None:
    await client.post("/api/v1/apps", content=HELLO, headers=YAML)
    response = await client.post("/api/v1/apps", content=HELLO, headers=YAML)
    assert response.status_code == 409
    assert response.json()["title"] == "Conflict"


async def test_list_get_replace_delete(client: httpx.AsyncClient) -> None:
    await client.post("/api/v1/apps", content=FLOWAPP, headers=YAML)
    await client.post("/api/v1/apps", content=HELLO, headers={"Content-Type": "text/yaml"})
    listed = (await client.get("/api/v1/apps")).json()["items"]
    assert [app["name"] for app in listed] == ["append-display", "hello"]
    assert (await client.get("/api/v1/apps/hello")).json()["name"] == "hello"
    changed = HELLO.replace("Hello, ", "Hi, ")
    replaced = await client.put("/api/v1/apps/hello", content=changed, headers=YAML)
    assert replaced.status_code == 200
    # The resource is flowapp.yaml as written (a workflowRef here); the workflow is its file.
    assert "Hi, " in (await client.get("/api/v1/apps/hello/workflow")).json()["text"]
    assert (await client.delete("/api/v1/apps/hello")).status_code == 204
    assert (await client.get("/api/v1/apps/hello")).status_code == 404
    assert (await client.delete("/api/v1/apps/hello")).status_code == 404


async def test_replace_with_another_name_is_refused(client: httpx.AsyncClient) -> None:
    await client.post("/api/v1/apps", content=HELLO, headers=YAML)
    other = HELLO.replace("name: hello", "name: other")
    response = await client.put("/api/v1/apps/hello", content=other, headers=YAML)
    assert response.status_code == 422
    assert response.json()["problems"][0]["pointer"] == "/metadata/name"


async def test_replace_an_unknown_app_is_404(client: httpx.AsyncClient) -> None:
    response = await client.put("/api/v1/apps/ghost", content=HELLO, headers=YAML)
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("text", "valid"),
    [(HELLO, True), (FLOWAPP, True), ("document: {dsl: '1.0.3'}\ndo: []\n", False)],
)
async def test_validate_answers_200_either_way(
    client: httpx.AsyncClient, text: str, valid: bool
) -> None:
    response = await client.post("/api/v1/validate", content=text, headers=YAML)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    assert body["valid"] is valid
    assert bool(body["problems"]) is not valid
    for where in body["problems"]:
        assert set(where) == {"file", "line", "column", "pointer", "message"}


async def test_validate_a_flowapp_with_an_unknown_function(client: httpx.AsyncClient) -> None:
    text = FLOWAPP.replace("call: append", "call: apend")
    body = (await client.post("/api/v1/validate", content=text, headers=YAML)).json()
    assert not body["valid"]
    assert any("apend" in p["message"] for p in body["problems"])
    assert all(p["pointer"].startswith("/spec/workflow") for p in body["problems"])


async def test_a_flowapp_header_problem_is_located(client: httpx.AsyncClient) -> None:
    text = FLOWAPP.replace("kind: FlowApp", "kind: Flow").replace("{name: append-display}", "{}")
    body = (await client.post("/api/v1/validate", content=text, headers=YAML)).json()
    pointers = {p["pointer"] for p in body["problems"]}
    assert {"/kind", "/metadata/name"} <= pointers or {"/kind", "/metadata"} <= pointers
    assert all(p["line"] > 0 for p in body["problems"])


async def test_status_before_and_after_deploy(
    client: httpx.AsyncClient, running: RunningPlatform
) -> None:
    await client.post("/api/v1/apps", content=FLOWAPP, headers=YAML)
    before = (await client.get("/api/v1/apps/append-display/status")).json()
    assert before["ready"] is False and before["observation"] is None
    await client.post("/api/v1/apps/append-display/deploys")
    await running.sync()  # the status is what the syncer last wrote
    after = (await client.get("/api/v1/apps/append-display/status")).json()
    assert after["ready"] is True
    assert after["deployed_revision"] == "append-display-00001"
    assert after["traffic"] == [{"revision": "append-display-00001", "percent": 100}]
    assert after["observation"]["functions"]["append"]["state"] == "ready"
    assert (await client.get("/api/v1/apps/nope/status")).status_code == 404
