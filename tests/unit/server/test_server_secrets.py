"""The secrets routes: who may set, list and delete an app's secrets, and that no
answer ever carries a value."""

from __future__ import annotations

import os
import time

import httpx
import pytest
from fastapi import FastAPI

from flowapp.local.platform import LocalPlatform
from flowapp.runtime.secrets import AppSecrets, KeyRing
from flowapp.server.app import create_app
from flowapp.store.memory import MemoryStore
from flowapp.store.platform import MemoryPlatformStore
from tests.unit.server.harness import HELLO, SLOW, create_and_deploy, make_client

VALUE = "k-123-do-not-show"


@pytest.fixture
def secrets(platform_store: MemoryPlatformStore) -> AppSecrets:
    return AppSecrets(
        platform_store,
        KeyRing((os.urandom(32),)),
        file={"hello": {"fromFile": "f"}},
        environment={"hello": {"fromEnv": "e"}},
    )


@pytest.fixture
def api(
    platform: LocalPlatform,
    store: MemoryStore,
    platform_store: MemoryPlatformStore,
    secrets: AppSecrets,
) -> FastAPI:
    return create_app(
        platform=platform, store=store, platform_store=platform_store, secrets=secrets
    )


@pytest.fixture
async def apps(admin: httpx.AsyncClient) -> None:
    await create_and_deploy(admin, HELLO)
    await create_and_deploy(admin, SLOW)


def token(platform_store: MemoryPlatformStore, role: str, *apps: str) -> str:
    return platform_store.create_token("t", role=role, now=time.time(), apps=list(apps))[1]


async def test_a_developer_sets_a_secret_and_no_answer_carries_its_value(
    api: FastAPI, platform_store: MemoryPlatformStore, secrets: AppSecrets, apps: None
) -> None:
    async with make_client(api, token(platform_store, "developer")) as dev:
        put = await dev.put("/api/v1/apps/hello/secrets/apiKey", json={"value": VALUE})
        assert put.status_code == 200, put.text
        assert put.json()["name"] == "apiKey" and put.json()["source"] == "store"
        listed = await dev.get("/api/v1/apps/hello/secrets")
        assert listed.status_code == 200
        assert {(i["name"], i["source"]) for i in listed.json()["items"]} == {
            ("apiKey", "store"),
            ("fromFile", "file"),
            ("fromEnv", "environment"),
        }
        for answer in (put, listed):
            assert VALUE not in answer.text
        # There is no route that reads a value back.
        assert (await dev.get("/api/v1/apps/hello/secrets/apiKey")).status_code == 405
    assert secrets.for_app("hello")["apiKey"] == VALUE
    assert secrets.for_app("slow") == {}


async def test_a_viewer_lists_names_but_cannot_set_or_delete(
    api: FastAPI, platform_store: MemoryPlatformStore, apps: None
) -> None:
    async with make_client(api, token(platform_store, "viewer")) as viewer:
        assert (await viewer.get("/api/v1/apps/hello/secrets")).status_code == 200
        put = await viewer.put("/api/v1/apps/hello/secrets/apiKey", json={"value": VALUE})
        assert put.status_code == 403
        assert (await viewer.delete("/api/v1/apps/hello/secrets/fromFile")).status_code == 403
    assert platform_store.list_secrets() == []


async def test_a_token_limited_to_one_app_sets_its_secrets_and_no_other_apps(
    api: FastAPI, platform_store: MemoryPlatformStore, secrets: AppSecrets, apps: None
) -> None:
    async with make_client(api, token(platform_store, "developer", "hello")) as ci:
        assert (
            await ci.put("/api/v1/apps/hello/secrets/apiKey", json={"value": VALUE})
        ).status_code == 200
        refused = await ci.put("/api/v1/apps/slow/secrets/apiKey", json={"value": "x"})
        assert refused.status_code == 403
        assert (await ci.get("/api/v1/apps/slow/secrets")).status_code == 403
    assert secrets.for_app("slow") == {}


async def test_deleting_a_secret(
    api: FastAPI, platform_store: MemoryPlatformStore, secrets: AppSecrets, apps: None
) -> None:
    async with make_client(api, token(platform_store, "developer")) as dev:
        await dev.put("/api/v1/apps/hello/secrets/apiKey", json={"value": VALUE})
        assert (await dev.delete("/api/v1/apps/hello/secrets/apiKey")).status_code == 204
        assert "apiKey" not in secrets.for_app("hello")
        missing = await dev.delete("/api/v1/apps/hello/secrets/apiKey")
        assert missing.status_code == 404
        given = await dev.delete("/api/v1/apps/hello/secrets/fromFile")
        assert given.status_code == 409
        assert "comes from the file given to flowapp up" in given.json()["detail"]


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/v1/apps/ghost/secrets/apiKey", {"value": "x"}, 404),
        ("/api/v1/apps/hello/secrets/1bad", {"value": "x"}, 422),
        ("/api/v1/apps/hello/secrets/apiKey", {"value": None}, 422),
        ("/api/v1/apps/hello/secrets/apiKey", {}, 422),
        ("/api/v1/apps/hello/secrets/apiKey", {"value": "x", "more": 1}, 422),
        ("/api/v1/apps/hello/secrets/apiKey", {"value": "x" * 70_000}, 422),
    ],
)
async def test_bad_requests_are_refused_and_store_nothing(
    api: FastAPI,
    platform_store: MemoryPlatformStore,
    apps: None,
    path: str,
    body: dict[str, object],
    status: int,
) -> None:
    async with make_client(api, token(platform_store, "developer")) as dev:
        answer = await dev.put(path, json=body)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert platform_store.list_secrets() == []


async def test_a_server_without_secrets_says_so(
    platform: LocalPlatform, store: MemoryStore, platform_store: MemoryPlatformStore
) -> None:
    api = create_app(platform=platform, store=store, platform_store=platform_store)
    async with make_client(api, token(platform_store, "admin")) as admin:
        await create_and_deploy(admin, HELLO)
        answer = await admin.get("/api/v1/apps/hello/secrets")
    assert answer.status_code == 501
