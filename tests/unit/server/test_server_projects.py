"""The routes the dashboard's editor uses: an app's workflow text (read, saved with a
check and a stale-write guard, validated within its app) and its functions (listed,
created from the templates)."""

from __future__ import annotations

import time

import httpx
import pytest

from flowapp.local.platform import LocalPlatform
from flowapp.store.platform import MemoryPlatformStore
from tests.unit.server.harness import YAML, AsRole

DRAWN = """\
# Drawn in the dashboard.
document: {dsl: '1.0.3', namespace: default, name: drawn, version: '1.0.0'}
do:
  # greet first
  - greet:
      set:
        greeting: hello   # kept as is
"""
FLOWAPP = """\
# The shop: comments here must survive every edit.
apiVersion: flowapp.dev/v1alpha1
kind: FlowApp
metadata: {name: shop, namespace: default}
spec:
  functions:
    charge: {runtime: python, path: functions/charge}
  workflow:
    document: {dsl: '1.0.3', namespace: default, name: shop, version: '1.0.0'}
    do:
      - charge: {call: charge}
"""


async def created(client: httpx.AsyncClient, text: str) -> str:
    answer = await client.post("/api/v1/apps", content=text, headers=YAML)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["name"])


async def test_the_workflow_text_is_read_as_written(client: httpx.AsyncClient) -> None:
    await created(client, DRAWN)
    answer = await client.get("/api/v1/apps/drawn/workflow")
    assert answer.status_code == 200
    body = answer.json()
    assert body["text"] == DRAWN
    assert (body["file"], body["base"]) == ("workflow.yaml", "")
    assert answer.headers["etag"] == f'"{body["commit"]}"'


async def test_an_inline_workflow_is_in_flowapp_yaml_under_spec_workflow(
    client: httpx.AsyncClient,
) -> None:
    await created(client, FLOWAPP)
    body = (await client.get("/api/v1/apps/shop/workflow")).json()
    assert (body["file"], body["base"], body["text"]) == ("flowapp.yaml", "/spec/workflow", FLOWAPP)


async def test_a_saved_text_is_committed_and_read_back(client: httpx.AsyncClient) -> None:
    await created(client, DRAWN)
    read = (await client.get("/api/v1/apps/drawn/workflow")).json()
    edited = DRAWN.replace("hello", "bonjour")
    saved = await client.put(
        "/api/v1/apps/drawn/workflow",
        content=edited,
        headers={**YAML, "If-Match": f'"{read["commit"]}"'},
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["commit"] != read["commit"]
    assert (await client.get("/api/v1/apps/drawn/workflow")).json()["text"] == edited
    assert (await client.post("/api/v1/apps/drawn/deploys")).status_code == 201
    ran = await client.post("/api/v1/apps/drawn/executions?wait=5", json={})
    assert ran.json()["output"] == {"greeting": "bonjour"}


async def test_a_save_over_a_newer_commit_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    await created(client, DRAWN)
    read = (await client.get("/api/v1/apps/drawn/workflow")).json()
    first = DRAWN.replace("hello", "first")
    await client.put("/api/v1/apps/drawn/workflow", content=first, headers=YAML)
    stale = await client.put(
        "/api/v1/apps/drawn/workflow",
        content=DRAWN.replace("hello", "second"),
        headers={**YAML, "If-Match": f'"{read["commit"]}"'},
    )
    assert stale.status_code == 409
    assert "reload" in stale.json()["detail"] or "changed" in stale.json()["detail"]
    assert (await client.get("/api/v1/apps/drawn/workflow")).json()["text"] == first


async def test_an_invalid_text_is_refused_with_where_and_nothing_is_saved(
    client: httpx.AsyncClient,
) -> None:
    await created(client, DRAWN)
    broken = DRAWN.replace("      set:", "      sett:")
    answer = await client.put("/api/v1/apps/drawn/workflow", content=broken, headers=YAML)
    assert answer.status_code == 422
    problems = answer.json()["problems"]
    assert any(p["pointer"].startswith("/do/0/greet") and p["line"] for p in problems)
    assert (await client.get("/api/v1/apps/drawn/workflow")).json()["text"] == DRAWN


async def test_validate_within_an_app_knows_its_functions(client: httpx.AsyncClient) -> None:
    await created(client, FLOWAPP)
    unknown = FLOWAPP.replace("{call: charge}", "{call: refund}")
    checked = await client.post("/api/v1/validate?app=shop", content=unknown, headers=YAML)
    assert checked.status_code == 200
    body = checked.json()
    assert body["valid"] is False
    assert any("refund" in p["message"] for p in body["problems"])
    fine = await client.post("/api/v1/validate?app=shop", content=FLOWAPP, headers=YAML)
    assert fine.json() == {"valid": True, "problems": []}


async def test_validate_within_an_unknown_app_is_404(client: httpx.AsyncClient) -> None:
    answer = await client.post("/api/v1/validate?app=nowhere", content=DRAWN, headers=YAML)
    assert answer.status_code == 404


async def test_functions_are_listed_with_their_code_and_callers(client: httpx.AsyncClient) -> None:
    await created(client, FLOWAPP)
    body = (await client.get("/api/v1/apps/shop/functions")).json()
    assert body["clone_url"].endswith("/git/shop.git")
    assert body["items"] == [
        {
            "name": "charge",
            "runtime": "python",
            "path": "functions/charge",
            "declared": True,
            "has_code": True,  # an app made from text gets each function's starter code
            "called_by": ["/do/0/charge"],
        }
    ]


async def test_a_function_is_created_from_the_templates_in_one_commit(
    client: httpx.AsyncClient, platform: LocalPlatform
) -> None:
    await created(client, FLOWAPP)
    before = (await platform.get_source("shop")).commit
    answer = await client.post(
        "/api/v1/apps/shop/functions", json={"name": "notify", "runtime": "python"}
    )
    assert answer.status_code == 201, answer.text
    notify = next(item for item in answer.json()["items"] if item["name"] == "notify")
    assert (notify["declared"], notify["has_code"], notify["runtime"]) == (True, True, "python")
    source = await platform.get_source("shop")
    files = source.files
    assert source.commit != before
    assert "functions/notify/main.py" in files and "functions/notify/test_main.py" in files
    manifest = files["flowapp.yaml"].decode()
    assert manifest.startswith("# The shop: comments here must survive every edit.")
    assert "notify: {runtime: python, path: functions/notify}" in manifest


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"name": "charge", "runtime": "python"}, 409),
        ({"name": "Not A Name", "runtime": "python"}, 422),
        ({"name": "notify", "runtime": "cobol"}, 422),
        ({"name": "notify", "extra": 1}, 422),
    ],
)
async def test_a_refused_function_changes_nothing(
    client: httpx.AsyncClient, platform: LocalPlatform, body: dict[str, object], status: int
) -> None:
    await created(client, FLOWAPP.replace("python, path: functions/charge", "python"))
    await client.post("/api/v1/apps/shop/functions", json={"name": "charge"})
    before = dict((await platform.get_source("shop")).files)
    answer = await client.post("/api/v1/apps/shop/functions", json=body)
    assert answer.status_code == status, answer.text
    assert (await platform.get_source("shop")).files == before


async def test_a_viewer_reads_but_does_not_write(
    client: httpx.AsyncClient, as_role: AsRole
) -> None:
    await created(client, DRAWN)
    async with as_role("viewer") as viewer:
        assert (await viewer.get("/api/v1/apps/drawn/workflow")).status_code == 200
        assert (await viewer.get("/api/v1/apps/drawn/functions")).status_code == 200
        put = await viewer.put("/api/v1/apps/drawn/workflow", content=DRAWN, headers=YAML)
        assert put.status_code == 403
        checked = await viewer.post("/api/v1/validate?app=drawn", content=DRAWN, headers=YAML)
        assert checked.status_code == 200


async def test_a_token_limited_to_other_apps_cannot_validate_in_this_one(
    client: httpx.AsyncClient, platform_store: MemoryPlatformStore, as_role: AsRole
) -> None:
    await created(client, DRAWN)
    _, limited = platform_store.create_token(
        "ci", role="developer", now=time.time(), apps=("other",)
    )
    async with as_role(limited) as other:
        answer = await other.post("/api/v1/validate?app=drawn", content=DRAWN, headers=YAML)
        assert answer.status_code == 404
        assert (await other.get("/api/v1/apps/drawn/workflow")).status_code == 403
