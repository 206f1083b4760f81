"""``examples/append-display`` on its rendered engine: two ``flowapp cluster-engine``
replicas on one PostgreSQL database, its functions served by the Python and Node hosts
at their URLs, a stand-in Broker, everything on 127.0.0.1 (``harness.py``)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import nats
import orjson
import pytest
import pytest_asyncio
import yaml

from flowapp.apps.loader import load_app
from tests.integration.cluster.harness import ROOT, ClusterOnLoopback, copy_project
from tests.postgres import throwaway_database

pytestmark = [pytest.mark.postgres, pytest.mark.asyncio(loop_scope="module")]
EXAMPLE = ROOT / "examples" / "append-display"


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    with throwaway_database("cluster_engine") as url:
        yield url


@pytest.fixture(scope="module")
def subject() -> str:
    return f"orders.{uuid.uuid4().hex[:10]}"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(
    database: str, subject: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ClusterOnLoopback]:
    """append-display as written, but with a NATS subject, stream and consumer of its
    own (tests run in parallel) and its webhook on a path of its own."""
    resource = yaml.safe_load((EXAMPLE / "flowapp.yaml").read_text())
    suffix = subject.rsplit(".", 1)[1]
    for trigger in resource["spec"]["triggers"]:
        if "nats" in trigger:
            trigger["nats"] = {"subject": subject, "stream": f"CLUSTER_{suffix}"}
    project = copy_project(
        EXAMPLE, tmp_path_factory.mktemp("app") / "append-display", text=yaml.safe_dump(resource)
    )
    app = load_app(project)
    async with ClusterOnLoopback(app, db=database, workdir=tmp_path_factory.mktemp("run")) as up:
        yield up


def api(cluster: ClusterOnLoopback, replica: int = 0) -> httpx.AsyncClient:
    return cluster.replicas[replica].client(cluster.token)


async def executions_of(cluster: ClusterOnLoopback) -> list[dict[str, Any]]:
    async with api(cluster) as client:
        answer = await client.get(
            "/api/v1/executions", params={"app": "append-display", "limit": 1000}
        )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


async def settled(
    cluster: ClusterOnLoopback, execution_id: str, timeout: float = 30
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with api(cluster) as client:
        while True:
            shown = (await client.get(f"/api/v1/executions/{execution_id}")).json()
            if shown["status"] in ("completed", "faulted", "cancelled") or loop.time() > deadline:
                return dict(shown)
            await asyncio.sleep(0.1)


async def test_an_invocation_calls_both_functions_at_their_urls(cluster: ClusterOnLoopback) -> None:
    for replica in (0, 1):
        async with api(cluster, replica) as client:
            answer = await client.post(
                "/api/v1/apps/append-display/executions",
                params={"wait": "30"},
                json={"message": f"hello from {replica}"},
            )
        assert answer.status_code == 200, answer.text
        assert answer.json()["output"] == {"displayed": f"hello from {replica}!"}
        shown = await settled(cluster, answer.json()["id"])
        tasks = {t["reference"]: t for t in shown["tasks"]}
        assert tasks["/do/0/append"]["output"] == {"message": f"hello from {replica}!"}
        assert tasks["/do/1/display"]["output"] == {"displayed": f"hello from {replica}!"}


async def test_the_api_wants_a_token_and_the_deliveries_port_serves_no_api(
    cluster: ClusterOnLoopback,
) -> None:
    replica = cluster.replicas[0]
    async with httpx.AsyncClient(timeout=10) as client:
        refused = await client.post(
            f"{replica.api}/api/v1/apps/append-display/executions", json={"message": "x"}
        )
        assert refused.status_code == 401
        not_there = await client.post(
            f"{replica.deliveries}/api/v1/apps/append-display/executions", json={"message": "x"}
        )
        assert not_there.status_code == 404
        assert (await client.get(f"{replica.api}/healthz")).status_code == 200


async def test_the_app_is_the_clusters_to_change(cluster: ClusterOnLoopback) -> None:
    async with api(cluster) as client:
        shown = await client.get("/api/v1/apps/append-display")
        assert shown.status_code == 200
        assert shown.json()["deployed_revision"].startswith("append-display-")
        deploy = await client.post("/api/v1/apps/append-display/deploys")
        assert deploy.status_code == 409
        assert "FlowApp object" in deploy.json()["detail"]


def nightly_event(event_id: str) -> dict[str, Any]:
    """What the PingSource of trigger `nightly` sends, through the Broker."""
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": "/apis/v1/namespaces/default/pingsources/append-display-nightly",
        "type": "dev.knative.sources.ping",
        "flowapp": "append-display",
        "flowapptrigger": "nightly",
        "datacontenttype": "application/json",
        "data": {"message": "nightly"},
    }


async def test_a_source_event_delivered_four_times_to_both_replicas_starts_one_execution(
    cluster: ClusterOnLoopback,
) -> None:
    trigger = cluster.trigger("append-display-on-nightly")
    event = nightly_event(f"ping-{uuid.uuid4().hex}")
    first, second = cluster.replicas
    # Knative retries (a lost answer, a timeout) and two dispatchers racing.
    deliveries = await asyncio.gather(
        cluster.broker.deliver(trigger, event, first),
        cluster.broker.deliver(trigger, event, second),
        cluster.broker.deliver(trigger, event, first),
    )
    deliveries.append(await cluster.broker.deliver(trigger, event, second))

    assert [d.status for d in deliveries] == [202, 202, 202, 202]
    ids = {orjson.loads(d.body)["id"] for d in deliveries}
    assert len(ids) == 1
    assert sorted(orjson.loads(d.body)["duplicate"] for d in deliveries) == [
        False,
        True,
        True,
        True,
    ]
    shown = await settled(cluster, ids.pop())
    assert shown["status"] == "completed"
    assert shown["output"] == {"displayed": "nightly!"}
    started = [e for e in await executions_of(cluster) if e["input"] == {"message": "nightly"}]
    assert len(started) == 1


async def test_a_source_event_published_to_the_broker_reaches_the_engine_by_its_trigger(
    cluster: ClusterOnLoopback,
) -> None:
    before = len(cluster.broker.deliveries)
    event = nightly_event(f"ping-{uuid.uuid4().hex}")
    async with httpx.AsyncClient() as client:
        headers = {"content-type": "application/cloudevents+json"}
        answer = await client.post(cluster.broker.url, content=orjson.dumps(event), headers=headers)
    assert answer.status_code == 202
    for _ in range(200):
        if len(cluster.broker.deliveries) > before:
            break
        await asyncio.sleep(0.05)
    delivered = cluster.broker.deliveries[before:]
    assert [(d.trigger, d.status) for d in delivered] == [("append-display-on-nightly", 202)]
    shown = await settled(cluster, orjson.loads(delivered[0].body)["id"])
    assert shown["output"] == {"displayed": "nightly!"}


async def test_deliveries_that_cannot_start_anything_are_refused_with_a_reason(
    cluster: ClusterOnLoopback,
) -> None:
    deliveries = cluster.replicas[0].deliveries
    event = nightly_event("bad-1")
    async with httpx.AsyncClient(timeout=10) as client:
        # `orders` is run by the engine itself (NATS): nothing delivers to it.
        engine_run = await client.post(
            f"{deliveries}/apps/append-display/triggers/orders/events",
            content=orjson.dumps(event),
            headers={"content-type": "application/cloudevents+json"},
        )
        other_app = await client.post(
            f"{deliveries}/apps/other/triggers/nightly/events",
            content=orjson.dumps(event),
            headers={"content-type": "application/cloudevents+json"},
        )
        not_an_event = await client.post(
            f"{deliveries}/apps/append-display/triggers/nightly/events",
            content=b'{"message": "hi"}',
            headers={"content-type": "application/json"},
        )
    assert engine_run.status_code == 404
    assert other_app.status_code == 404
    assert not_an_event.status_code == 400
    assert not_an_event.headers["content-type"] == "application/problem+json"


async def test_nats_messages_shared_by_two_replicas_start_one_execution_each(
    cluster: ClusterOnLoopback, subject: str
) -> None:
    messages = [f"nats-{uuid.uuid4().hex[:8]}" for _ in range(4)]
    connection = await nats.connect("nats://127.0.0.1:4222")
    try:
        stream = connection.jetstream()
        for message in messages:
            await stream.publish(subject, orjson.dumps({"message": message}))
    finally:
        await connection.close()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while loop.time() < deadline:
        found = [
            e for e in await executions_of(cluster) if (e["input"] or {}).get("message") in messages
        ]
        if len(found) >= len(messages) and all(e["status"] == "completed" for e in found):
            break
        await asyncio.sleep(0.2)
    inputs = sorted(e["input"]["message"] for e in found)
    assert inputs == sorted(messages)
    assert {e["output"]["displayed"] for e in found} == {f"{m}!" for m in messages}


async def test_a_webhook_on_either_replica_answers_with_its_execution(
    cluster: ClusterOnLoopback,
) -> None:
    for replica in cluster.replicas:
        async with httpx.AsyncClient(timeout=30) as client:
            answer = await client.post(
                f"{replica.api}/hooks/orders", params={"wait": "20"}, json={"message": "hook"}
            )
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"displayed": "hook!"}
