"""What the server's unit tests share besides fixtures: workflows, clients, helpers."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
from fastapi import FastAPI

HELLO = """\
document: {dsl: '1.0.3', namespace: default, name: hello, version: '1.0.0'}
do:
  - greet:
      set:
        greeting: ${ "Hello, " + .name + "!" }
"""
SLOW = """\
document: {dsl: '1.0.3', namespace: default, name: slow, version: '1.0.0'}
do:
  - nap:
      wait: PT0.5S
  - done:
      set: {done: true}
"""
FAULTY = """\
document: {dsl: '1.0.3', namespace: default, name: faulty, version: '1.0.0'}
do:
  - check:
      raise:
        error:
          type: https://example.com/errors/bad-order
          status: 409
          title: Bad order
"""
YAML = {"Content-Type": "application/yaml"}

AsRole = Callable[[str], AbstractAsyncContextManager[httpx.AsyncClient]]


def make_client(app: FastAPI, token: str | None, **options: Any) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = httpx.ASGITransport(app=app, **options)
    return httpx.AsyncClient(transport=transport, base_url="http://api.test", headers=headers)


async def create_and_deploy(client: httpx.AsyncClient, text: str) -> dict[str, Any]:
    created = await client.post("/api/v1/apps", content=text, headers=YAML)
    assert created.status_code == 201, created.text
    name = created.json()["name"]
    deployed = await client.post(f"/api/v1/apps/{name}/deploys")
    assert deployed.status_code == 201, deployed.text
    return dict(deployed.json())
