"""The runtime hands each app's workflows their own app's secrets, and ``run: workflow``
never reaches another app's workflow (which would run with that app's secrets)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowapp.engine.testing import workflow_from_yaml
from flowapp.runtime.registry import WorkflowRegistry
from flowapp.runtime.runtime import Runtime
from flowapp.runtime.secrets import AppSecrets, KeyRing
from flowapp.store import open_store
from flowapp.store.platform import MemoryPlatformStore
from flowapp.store.port import Store

T0 = 1_700_000_000.0

READS = """
document: {dsl: '1.0.3', namespace: test, name: NAME, version: '1.0.0'}
use: {secrets: [apiKey]}
do:
  - read: {set: {key: '${ $secrets.apiKey }'}}
"""
CALLS_CHILD = """
document: {dsl: '1.0.3', namespace: test, name: parent, version: '1.0.0'}
do:
  - child: {run: {workflow: {namespace: test, name: child, version: '1.0.0'}}}
"""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path / 'runtime.db'}")
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def secrets() -> AppSecrets:
    platform = MemoryPlatformStore()
    for app in ("shop", "billing"):
        platform.create_app(app, namespace="default", resource={}, now=T0)
    vault = AppSecrets(platform, KeyRing((os.urandom(32),)))
    vault.set("shop", "apiKey", "shop-key")
    vault.set("billing", "apiKey", "billing-key")
    return vault


def add(registry: WorkflowRegistry, text: str, app: str, name: str = "reads"):
    document = workflow_from_yaml(text.replace("NAME", name)).definition
    return registry.add(document, app=app, revision=f"{app}-00001")


async def run(runtime: Runtime, workflow) -> object:
    execution_id = await runtime.start_execution(workflow, {})
    return await runtime.wait_for(execution_id, timeout=10)


async def test_each_app_reads_its_own_secrets(store: Store, secrets: AppSecrets) -> None:
    registry = WorkflowRegistry(store)
    runtime = Runtime(store, registry=registry, secrets=secrets.for_app)
    await runtime.start()
    try:
        shop = await run(runtime, add(registry, READS, "shop"))
        billing = await run(runtime, add(registry, READS, "billing"))
        nobody = await run(runtime, add(registry, READS, "other"))
    finally:
        await runtime.stop()
    assert shop.output == {"key": "shop-key"}  # type: ignore[attr-defined]
    assert billing.output == {"key": "billing-key"}  # type: ignore[attr-defined]
    assert nobody.status == "faulted"  # type: ignore[attr-defined]
    assert nobody.error["status"] == 403  # type: ignore[attr-defined]


async def test_run_workflow_finds_its_own_apps_workflow_only(
    store: Store, secrets: AppSecrets
) -> None:
    registry = WorkflowRegistry(store)
    add(registry, READS, "billing", name="child")  # billing's child reads billing's key
    parent = add(registry, CALLS_CHILD, "shop")
    runtime = Runtime(store, registry=registry, secrets=secrets.for_app)
    await runtime.start()
    try:
        refused = await run(runtime, parent)
        add(registry, READS, "shop", name="child")
        own = await run(runtime, parent)
    finally:
        await runtime.stop()
    assert refused.status == "faulted"  # type: ignore[attr-defined]
    assert "no workflow test/child:1.0.0 is known in app shop" in refused.error["detail"]  # type: ignore[attr-defined]
    assert own.output == {"key": "shop-key"}  # type: ignore[attr-defined]
