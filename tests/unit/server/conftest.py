"""Fixtures for the API server's unit tests: the app over the real platform with in-memory
stores and in-process functions (``tests/platforms.py``), called through httpx's ASGI
transport (no sockets).

- ``platform``: the ``LocalPlatform``; ``running``: it with its runtime, the functions'
  handlers (``running.functions``), the events published (``running.events``) and one
  round of the syncer (``running.sync()``);

- ``tokens``: one live token per role, plus a revoked one (``tokens["revoked"]``);
- ``client`` / ``as_role(role)``: clients sending that role's token;
- ``hello``: an app named ``hello`` created and deployed (its workflow greets ``.name``).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from flowapp.local.platform import LocalPlatform
from flowapp.server.app import create_app
from flowapp.server.settings import ServerSettings
from flowapp.store.memory import MemoryStore
from flowapp.store.platform import MemoryPlatformStore
from tests.platforms import RunningPlatform, running_platform
from tests.unit.server.harness import HELLO, AsRole, create_and_deploy, make_client


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def platform_store() -> MemoryPlatformStore:
    return MemoryPlatformStore()


@pytest.fixture
async def running(
    tmp_path: Path, store: MemoryStore, platform_store: MemoryPlatformStore
) -> AsyncIterator[RunningPlatform]:
    async with running_platform(
        tmp_path / "data", store=store, platform_store=platform_store
    ) as started:
        yield started


@pytest.fixture
def platform(running: RunningPlatform) -> LocalPlatform:
    return running.platform


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def settings() -> ServerSettings:
    return ServerSettings(max_body_bytes=64 * 1024, max_source_bytes=256 * 1024)


@pytest.fixture
def api(
    platform: LocalPlatform,
    store: MemoryStore,
    platform_store: MemoryPlatformStore,
    registry: CollectorRegistry,
    settings: ServerSettings,
) -> FastAPI:
    return create_app(
        platform=platform,
        store=store,
        platform_store=platform_store,
        metrics=registry,
        settings=settings,
    )


@pytest.fixture
def tokens(platform_store: MemoryPlatformStore) -> dict[str, str]:
    now = time.time()
    made = {
        role: platform_store.create_token(role, role=role, now=now)[1]
        for role in ("viewer", "developer", "admin")
    }
    record, revoked = platform_store.create_token("old", role="admin", now=now)
    platform_store.revoke_token(record.id, now=now)
    return {**made, "revoked": revoked}


@pytest.fixture
def as_role(api: FastAPI, tokens: dict[str, str]) -> AsRole:
    def client(role: str) -> httpx.AsyncClient:
        return make_client(api, tokens.get(role, role if role.startswith("fa_") else None))

    return client


@pytest.fixture
async def client(api: FastAPI, tokens: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(api, tokens["developer"]) as subject:
        yield subject


@pytest.fixture
async def admin(api: FastAPI, tokens: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(api, tokens["admin"]) as subject:
        yield subject


@pytest.fixture
async def hello(client: httpx.AsyncClient) -> dict[str, Any]:
    return await create_and_deploy(client, HELLO)
