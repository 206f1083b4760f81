"""Fixtures for the API server under uvicorn on 127.0.0.1 (a free port, in a thread),
over SQLite stores (one file for both) and the real platform (``tests/platforms.py``).

``served`` is a running server with an admin token and the app ``hello`` deployed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry

from flowapp.runtime.secrets import AppSecrets, KeyRing
from flowapp.store import Store, open_store
from flowapp.store.platform import PlatformStore, open_platform_store
from tests.platforms import ServedPlatform

HELLO = """\
document: {dsl: '1.0.3', namespace: default, name: hello, version: '1.0.0'}
do:
  - greet:
      set:
        greeting: ${ "Hello, " + (.name // "you") + "!" }
"""


@dataclass
class Served:
    url: str
    admin: str
    platform: ServedPlatform
    store: Store
    platform_store: PlatformStore

    def client(self, token: str | None = None, **options: object) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token or self.admin}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **options)  # type: ignore[arg-type]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    url = f"sqlite:///{tmp_path / 'flowapp.db'}"
    store, platform_store = open_store(url), open_platform_store(url)
    store.migrate()
    platform_store.migrate()
    _, admin = platform_store.create_token("admin", role="admin", now=time.time())
    secrets = AppSecrets(platform_store, KeyRing((os.urandom(32),)))
    # With a registry, as flowapp up has: the metrics panels answer instead of a 501.
    platform = ServedPlatform(
        tmp_path / "data",
        store=store,
        platform_store=platform_store,
        secrets=secrets,
        metrics=CollectorRegistry(),
    )
    try:
        with platform as server:
            served = Served(server.url, admin, server, store, platform_store)
            with served.client() as client:
                yaml = {"Content-Type": "application/yaml"}
                client.post("/api/v1/apps", content=HELLO, headers=yaml).raise_for_status()
                client.post("/api/v1/apps/hello/deploys").raise_for_status()
            yield served
    finally:
        store.close()
        platform_store.close()
