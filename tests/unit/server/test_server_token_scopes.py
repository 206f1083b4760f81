"""Tokens limited to some apps: what they may reach, and what they are shown."""

from __future__ import annotations

import time

import httpx
import pytest
from fastapi import FastAPI

from flowapp.server.auth import app_scope_refusal, git_allows
from flowapp.store.platform import MemoryPlatformStore
from tests.unit.server.harness import HELLO, SLOW, create_and_deploy, make_client


@pytest.fixture
async def two_apps(admin: httpx.AsyncClient) -> dict[str, str]:
    """An execution of each of two apps, by app."""
    await create_and_deploy(admin, HELLO)
    await create_and_deploy(admin, SLOW)
    hello = await admin.post("/api/v1/apps/hello/executions?wait=5", json={"name": "a"})
    slow = await admin.post("/api/v1/apps/slow/executions", json={})
    return {"hello": hello.json()["id"], "slow": slow.json()["id"]}


def limited(api: FastAPI, platform_store: MemoryPlatformStore, *apps: str) -> httpx.AsyncClient:
    _, secret = platform_store.create_token(
        "ci", role="developer", now=time.time(), apps=list(apps)
    )
    return make_client(api, secret)


async def test_a_limited_token_reaches_its_apps_and_their_executions_only(
    api: FastAPI, platform_store: MemoryPlatformStore, two_apps: dict[str, str]
) -> None:
    async with limited(api, platform_store, "hello") as ci:
        assert [a["name"] for a in (await ci.get("/api/v1/apps")).json()["items"]] == ["hello"]
        assert (await ci.get("/api/v1/apps/hello")).status_code == 200
        ran = await ci.post("/api/v1/apps/hello/executions?wait=5", json={"name": "b"})
        assert ran.status_code == 200
        assert (await ci.get(f"/api/v1/executions/{two_apps['hello']}")).status_code == 200
        listed = (await ci.get("/api/v1/executions")).json()["items"]
        assert {e["app"] for e in listed} == {"hello"} and len(listed) == 2

        refused = await ci.get("/api/v1/apps/slow")
        assert refused.status_code == 403
        assert "limited to apps (hello), not slow" in refused.json()["detail"]
        assert (await ci.post("/api/v1/apps/slow/executions", json={})).status_code == 403
        # Another app's execution is not found, not merely forbidden: ids are not probed.
        assert (await ci.get(f"/api/v1/executions/{two_apps['slow']}")).status_code == 404
        cancel = await ci.post(f"/api/v1/executions/{two_apps['slow']}/cancel")
        assert cancel.status_code == 404
        other = await ci.get("/api/v1/executions", params={"app": "slow"})
        assert other.status_code == 403
        assert (await ci.get("/metrics")).status_code == 403
        event = {"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}
        assert (await ci.post("/api/v1/events", json=event)).status_code == 403
        assert (await ci.post("/api/v1/apps", content=HELLO)).status_code == 403
        assert (await ci.get("/api/v1/whoami")).json()["apps"] == ["hello"]


async def test_a_limited_token_controls_no_execution_of_another_app(
    api: FastAPI, platform_store: MemoryPlatformStore, two_apps: dict[str, str]
) -> None:
    own, other = two_apps["hello"], two_apps["slow"]
    async with limited(api, platform_store, "hello") as ci:
        for view in ("tasks", "workflow", "children"):
            assert (await ci.get(f"/api/v1/executions/{own}/{view}")).status_code == 200, view
            answer = await ci.get(f"/api/v1/executions/{other}/{view}")
            assert answer.status_code == 404, (view, answer.text)
        assert (await ci.post(f"/api/v1/executions/{own}/rerun")).status_code == 202
        for action in ("cancel", "suspend", "resume", "retry", "rerun"):
            answer = await ci.post(f"/api/v1/executions/{other}/{action}")
            assert answer.status_code == 404, (action, answer.text)


async def test_a_token_of_several_apps_names_one_to_list_executions(
    api: FastAPI, platform_store: MemoryPlatformStore, two_apps: dict[str, str]
) -> None:
    async with limited(api, platform_store, "hello", "slow") as ci:
        unnamed = await ci.get("/api/v1/executions")
        assert unnamed.status_code == 422
        assert "name one of them" in unnamed.json()["detail"]
        named = await ci.get("/api/v1/executions", params={"app": "slow"})
        assert [e["id"] for e in named.json()["items"]] == [two_apps["slow"]]
        assert (await ci.post(f"/api/v1/executions/{two_apps['slow']}/cancel")).status_code == 202


async def test_tokens_are_created_limited_and_admin_tokens_cannot_be(
    admin: httpx.AsyncClient,
) -> None:
    created = await admin.post(
        "/api/v1/tokens", json={"name": "ci", "role": "developer", "apps": ["shop"]}
    )
    assert created.status_code == 201 and created.json()["apps"] == ["shop"]
    listed = (await admin.get("/api/v1/tokens")).json()["items"]
    assert [t["apps"] for t in listed if t["name"] == "ci"] == [["shop"]]
    refused = await admin.post(
        "/api/v1/tokens", json={"name": "root", "role": "admin", "apps": ["shop"]}
    )
    assert refused.status_code == 422, refused.text
    assert "admin token cannot be limited" in refused.json()["detail"]


def test_the_scope_rule_and_git() -> None:
    apps = ("shop",)
    assert app_scope_refusal("GET", "/api/v1/apps/shop/deploys", apps) is None
    assert app_scope_refusal("GET", "/api/v1/apps/shopping", apps) is not None
    assert app_scope_refusal("GET", "/api/v1/executions/x/cancel", apps) is None
    assert app_scope_refusal("POST", "/api/v1/validate", apps) is None
    assert app_scope_refusal("GET", "/api/v1/tokens", ()) is None  # unlimited: roles decide
    store = MemoryPlatformStore()
    ci, _ = store.create_token("ci", role="developer", now=0.0, apps=["shop"])
    reader, _ = store.create_token("r", role="viewer", now=0.0)
    ops, _ = store.create_token("ops", role="developer", now=0.0)
    assert git_allows(ci, "shop") and not git_allows(ci, "cart")
    assert git_allows(ops, "cart") and not git_allows(reader, "shop")


async def test_an_idempotency_key_is_scoped_to_its_app(
    api: FastAPI, platform_store: MemoryPlatformStore, admin: httpx.AsyncClient
) -> None:
    """The same key sent to another app starts that app's execution: a token limited to
    ``slow`` never gets ``hello``'s execution (and its output) by guessing its key."""
    await create_and_deploy(admin, HELLO)
    await create_and_deploy(admin, SLOW)
    key = {"Idempotency-Key": "order-42"}
    hello = await admin.post(
        "/api/v1/apps/hello/executions?wait=5", json={"name": "a"}, headers=key
    )
    assert hello.status_code == 200 and hello.json()["output"]
    async with limited(api, platform_store, "slow") as ci:
        slow = await ci.post("/api/v1/apps/slow/executions", json={}, headers=key)
        again = await ci.post("/api/v1/apps/slow/executions", json={}, headers=key)
    assert slow.status_code == 202, slow.text
    assert slow.json()["id"] != hello.json()["id"] and "output" not in slow.json()
    assert again.json()["id"] == slow.json()["id"]  # within its app, the key still dedupes
    shown = await admin.get(f"/api/v1/executions/{slow.json()['id']}")
    assert shown.json()["app"] == "slow"


async def test_an_empty_idempotency_key_is_refused(admin: httpx.AsyncClient) -> None:
    await create_and_deploy(admin, HELLO)
    answer = await admin.post(
        "/api/v1/apps/hello/executions", json={}, headers={"Idempotency-Key": ""}
    )
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["problems"]
    assert problem["file"] == "<header>" and problem["pointer"] == "/idempotency-key"
