"""An MQTT trigger on two engine replicas: one holds its session (PostgreSQL advisory
lock), the other stands by, and takes over when the holder is killed; every message
starts one execution."""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiomqtt
import orjson
import pytest
import pytest_asyncio
import yaml

from flowapp.apps.loader import load_app
from flowapp.cluster.elected import STANDBY
from tests.integration.cluster.harness import ROOT, ClusterOnLoopback, Replica, copy_project
from tests.postgres import throwaway_database

pytestmark = [pytest.mark.postgres, pytest.mark.asyncio(loop_scope="module")]
EXAMPLE = ROOT / "examples" / "append-display"


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    with throwaway_database("cluster_elected") as url:
        yield url


@pytest.fixture(scope="module")
def topic() -> str:
    return f"flowapp-test/{uuid.uuid4().hex[:10]}/readings"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(
    database: str, topic: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ClusterOnLoopback]:
    resource = yaml.safe_load((EXAMPLE / "flowapp.yaml").read_text())
    resource["metadata"]["name"] = "sensors"
    resource["spec"]["workflow"]["document"]["name"] = "sensors"
    resource["spec"]["triggers"] = [
        {
            "name": "readings",
            "mqtt": {
                "topic": topic,
                "clientId": f"flowapp-test-{uuid.uuid4().hex[:10]}",
                "sessionExpiry": "PT2M",
            },
        }
    ]
    project = copy_project(
        EXAMPLE, tmp_path_factory.mktemp("app") / "sensors", text=yaml.safe_dump(resource)
    )
    app = load_app(project)
    async with ClusterOnLoopback(app, db=database, workdir=tmp_path_factory.mktemp("run")) as up:
        yield up


async def trigger_state(cluster: ClusterOnLoopback, replica: Replica) -> dict[str, Any]:
    async with replica.client(cluster.token) as client:
        shown = (await client.get("/api/v1/apps/sensors")).json()
    return dict(shown["observation"]["triggers"]["readings"])


async def leader(cluster: ClusterOnLoopback, among: list[Replica]) -> Replica:
    """The one replica whose trigger runs, once the others stand by."""
    for _ in range(150):
        states = [await trigger_state(cluster, replica) for replica in among]
        running = [r for r, s in zip(among, states, strict=True) if s["state"] == "ready"]
        standing = [s for s in states if s["last_error"] == STANDBY]
        if len(running) == 1 and len(standing) == len(among) - 1:
            return running[0]
        await asyncio.sleep(0.2)
    raise AssertionError(f"no single leader: {states}")


async def publish(topic: str, messages: list[str]) -> None:
    async with aiomqtt.Client("127.0.0.1", 1883, protocol=aiomqtt.ProtocolVersion.V5) as client:
        for message in messages:
            await client.publish(topic, orjson.dumps({"message": message}), qos=1)


async def executions_for(
    cluster: ClusterOnLoopback, replica: Replica, messages: list[str]
) -> list[dict[str, Any]]:
    for _ in range(200):
        async with replica.client(cluster.token) as client:
            answer = await client.get("/api/v1/executions", params={"limit": 1000})
        found = [e for e in answer.json()["items"] if (e["input"] or {}).get("message") in messages]
        if len(found) >= len(messages) and all(e["status"] == "completed" for e in found):
            await asyncio.sleep(0.5)  # a second execution for one message would show by now
            async with replica.client(cluster.token) as client:
                answer = await client.get("/api/v1/executions", params={"limit": 1000})
            items = answer.json()["items"]
            return [e for e in items if (e["input"] or {}).get("message") in messages]
        await asyncio.sleep(0.1)
    raise AssertionError(f"not every message started an execution: {found}")


async def test_one_replica_holds_the_session_and_the_other_takes_over_when_it_dies(
    cluster: ClusterOnLoopback, topic: str
) -> None:
    holder = await leader(cluster, cluster.replicas)
    first = [f"before-{n}" for n in range(3)]
    await publish(topic, first)
    started = await executions_for(cluster, holder, first)
    assert sorted(e["input"]["message"] for e in started) == sorted(first)

    await holder.stop(signal.SIGKILL)  # its database session ends: the lock is free
    survivor = next(r for r in cluster.replicas if r is not holder)
    assert await leader(cluster, [survivor]) is survivor
    later = [f"after-{n}" for n in range(2)]
    await publish(topic, later)
    started = await executions_for(cluster, survivor, later)
    assert sorted(e["input"]["message"] for e in started) == sorted(later)
    assert {e["output"]["displayed"] for e in started} == {f"{m}!" for m in later}
