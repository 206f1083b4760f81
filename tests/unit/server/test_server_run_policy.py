"""An app's run policy through the API: anyone may read it, only an admin may change it."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from flowapp.local.platform import LocalPlatform
from flowapp.store.platform import MemoryPlatformStore
from tests.unit.server.harness import AsRole, make_client

POLICY = "/api/v1/apps/hello/run-policy"


async def test_an_admin_allows_an_app_kinds_of_run_process(
    hello: dict[str, Any], admin: httpx.AsyncClient, as_role: AsRole, platform: LocalPlatform
) -> None:
    platform.run_policies.allow_run = frozenset({"script"})
    async with as_role("viewer") as viewer:
        before = await viewer.get(POLICY)
    assert before.status_code == 200
    assert before.json() == {
        "app": "hello",
        "allowed": [],
        "platform": ["script"],
        "effective": ["script"],
    }

    changed = await admin.put(POLICY, json={"allowed": ["shell", "script"]})

    assert changed.status_code == 200, changed.text
    assert changed.json()["allowed"] == ["shell", "script"]
    assert changed.json()["effective"] == ["script", "shell"]
    assert (await admin.get(POLICY)).json()["allowed"] == ["shell", "script"]


@pytest.mark.parametrize("role", ["viewer", "developer"])
async def test_a_developer_cannot_widen_what_its_code_may_run(
    hello: dict[str, Any], as_role: AsRole, role: str, platform: LocalPlatform
) -> None:
    async with as_role(role) as someone:
        refused = await someone.put(POLICY, json={"allowed": ["shell"]})
    assert refused.status_code == 403
    assert "needs the admin role" in refused.json()["detail"]
    assert (await platform.get_run_policy("hello")).allowed == ()


async def test_a_developer_limited_to_the_app_cannot_either(
    hello: dict[str, Any],
    api: FastAPI,
    platform_store: MemoryPlatformStore,
    platform: LocalPlatform,
) -> None:
    _, secret = platform_store.create_token("ci", role="developer", now=time.time(), apps=["hello"])
    async with make_client(api, secret) as ci:
        assert (await ci.get(POLICY)).status_code == 200
        assert (await ci.put(POLICY, json={"allowed": ["shell"]})).status_code == 403
    assert (await platform.get_run_policy("hello")).allowed == ()


@pytest.mark.parametrize(
    "body", [{"allowed": ["bash"]}, {"allowed": "shell"}, {"allow": ["shell"]}, {}]
)
async def test_a_bad_policy_is_a_422_and_changes_nothing(
    hello: dict[str, Any], admin: httpx.AsyncClient, platform: LocalPlatform, body: Any
) -> None:
    refused = await admin.put(POLICY, json=body)
    assert refused.status_code == 422
    assert (await platform.get_run_policy("hello")).allowed == ()


async def test_an_unknown_app_has_no_policy(admin: httpx.AsyncClient) -> None:
    assert (await admin.get("/api/v1/apps/nope/run-policy")).status_code == 404
    assert (
        await admin.put("/api/v1/apps/nope/run-policy", json={"allowed": []})
    ).status_code == 404
