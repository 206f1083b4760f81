"""The in-memory API server enforces what a real one does, or the operator's tests would
prove nothing: pruning and strict validation against CRD schemas, the status subresource,
generation, resourceVersion conflicts, finalizers, garbage collection and watches."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import kopf
import pytest

from flowapp.operator.client import ApiError, Client
from tests.k8s.apiserver import serving
from tests.k8s.schemas import crds

Obj = dict[str, Any]
TRIGGER = "eventing.knative.dev/v1"


def trigger(name: str, **extra: Any) -> Obj:
    spec = {"broker": "default", "subscriber": {"uri": "http://x.example/"}} | extra
    return {
        "apiVersion": TRIGGER,
        "kind": "Trigger",
        "metadata": {"name": name, "namespace": "ns"},
        "spec": spec,
    }


@pytest.fixture
async def api() -> AsyncIterator[tuple[str, Client]]:
    async with serving(list(crds())) as server:
        client = Client(kopf.ConnectionInfo(server=server.url, insecure=True))  # type: ignore[attr-defined]
        yield server.url, client  # type: ignore[attr-defined]
        await client.close()


async def test_unknown_fields_are_refused_when_strict_and_pruned_otherwise(
    api: tuple[str, Client],
) -> None:
    url, client = api
    with pytest.raises(ApiError) as refused:
        await client.create(trigger("a", subscriber={"uri": "http://x/", "urii": "typo"}))
    assert refused.value.status == 422 and ".spec.subscriber.urii" in refused.value.message
    async with aiohttp.ClientSession() as session:
        path = f"{url}/apis/{TRIGGER}/namespaces/ns/triggers"
        typo = trigger("b", subscriber={"uri": "http://x/", "urii": "typo"}, brokr="kept")
        async with session.post(path, json=typo) as response:
            assert response.status == 201
            spec = (await response.json())["spec"]
    # Trigger's spec keeps unknown fields (its CRD says so); its subscriber does not.
    assert spec["subscriber"] == {"uri": "http://x/"} and spec["brokr"] == "kept"


async def test_schema_violations_are_refused(api: tuple[str, Client]) -> None:
    _, client = api
    bad = trigger("a")
    bad["spec"]["delivery"] = {"retry": "three"}
    with pytest.raises(ApiError, match="retry"):
        await client.create(bad)


async def test_status_is_a_subresource_and_generation_follows_the_spec(
    api: tuple[str, Client],
) -> None:
    _, client = api
    created = await client.create(trigger("a") | {"status": {"observedGeneration": 9}})
    assert "status" not in created and created["metadata"]["generation"] == 1
    patched = await client.patch_status(
        TRIGGER, "Trigger", "ns", "a", {"observedGeneration": 1, "spec": "x"}
    )
    assert patched["status"] == {"observedGeneration": 1}
    assert patched["metadata"]["generation"] == 1
    changed = patched | {
        "spec": patched["spec"] | {"broker": "other"},
        "status": {"observedGeneration": 5},
    }
    replaced = await client.replace(changed)
    assert replaced["metadata"]["generation"] == 2
    assert replaced["status"] == {"observedGeneration": 1}
    labels_only = replaced | {"metadata": replaced["metadata"] | {"labels": {"a": "b"}}}
    assert (await client.replace(labels_only))["metadata"]["generation"] == 2
    with pytest.raises(ApiError) as conflict:
        await client.replace(changed)  # its resourceVersion is stale now
    assert conflict.value.status == 409


async def test_finalizers_hold_deletion_and_owners_take_their_dependents(
    api: tuple[str, Client],
) -> None:
    _, client = api
    owner = await client.create(
        trigger("owner") | {"metadata": {"name": "owner", "namespace": "ns", "finalizers": ["x/y"]}}
    )
    reference = {
        "apiVersion": TRIGGER,
        "kind": "Trigger",
        "name": "owner",
        "uid": owner["metadata"]["uid"],
    }
    await client.create(
        trigger("child")
        | {"metadata": {"name": "child", "namespace": "ns", "ownerReferences": [reference]}}
    )
    await client.delete(owner)
    held = await client.get(TRIGGER, "Trigger", "ns", "owner")
    assert held is not None and held["metadata"]["deletionTimestamp"]
    assert await client.get(TRIGGER, "Trigger", "ns", "child") is not None
    released = held | {"metadata": held["metadata"] | {"finalizers": []}}
    await client.replace(released)
    assert await client.get(TRIGGER, "Trigger", "ns", "owner") is None
    assert await client.get(TRIGGER, "Trigger", "ns", "child") is None


async def test_watch_streams_resume_from_a_resource_version(api: tuple[str, Client]) -> None:
    url, client = api
    first = await client.create(trigger("a"))
    await client.create(trigger("b"))
    since = first["metadata"]["resourceVersion"]
    events: list[tuple[str, str]] = []
    async with aiohttp.ClientSession() as session:
        path = f"{url}/apis/{TRIGGER}/triggers?watch=true&resourceVersion={since}&timeoutSeconds=1"
        async with session.get(path) as response:
            await asyncio.sleep(0.1)
            await client.delete(first)
            async for line in response.content:
                event = json.loads(line)
                events.append((event["type"], event["object"]["metadata"]["name"]))
    assert events == [("ADDED", "b"), ("DELETED", "a")]
