"""``emit`` and ``listen`` on the rendered engine: an emitted event reaches the Broker in
binary mode, and an event the Broker delivers (by the app's ``<app>-events`` Trigger) to
one replica reaches the execution another replica holds."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import orjson
import psycopg
import pytest
import pytest_asyncio
from psycopg import sql

from flowapp.apps.loader import load_app
from flowapp.cluster.database import schema_name
from tests.integration.cluster.harness import ROOT, ClusterOnLoopback, copy_project
from tests.postgres import throwaway_database

pytestmark = [pytest.mark.postgres, pytest.mark.asyncio(loop_scope="module")]

CONFIRM = """
apiVersion: flowapp.dev/v1alpha1
kind: FlowApp
metadata: {name: confirm-order, namespace: shop}
spec:
  functions:
    append: {runtime: python, path: functions/append}
  workflow:
    document: {dsl: '1.0.3', namespace: shop, name: confirm-order, version: '1.0.0'}
    do:
      - number: {call: append, with: {message: '${ .order }', suffix: '#'}}
      - announce:
          emit:
            event:
              with:
                source: https://shop.example/confirm-order
                type: dev.flowapp.test.order.placed
                data: {order: '${ .message }'}
      - confirmed:
          listen:
            to:
              one:
                with:
                  type: dev.flowapp.test.order.confirmed
                  data: '${ .order == $workflow.input.order + "#" }'
      - done: {set: {order: '${ .[0].order }', by: '${ .[0].by }'}}
"""


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    with throwaway_database("cluster_events") as url:
        yield url


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(
    database: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ClusterOnLoopback]:
    project = copy_project(
        ROOT / "examples" / "append-display",
        tmp_path_factory.mktemp("app") / "confirm-order",
        text=CONFIRM,
    )
    app = load_app(project)
    async with ClusterOnLoopback(app, db=database, workdir=tmp_path_factory.mktemp("run")) as up:
        yield up


async def status_of(client: httpx.AsyncClient, execution_id: str) -> dict[str, Any]:
    return dict((await client.get(f"/api/v1/executions/{execution_id}")).json())


async def until(client: httpx.AsyncClient, execution_id: str, statuses: set[str]) -> dict[str, Any]:
    for _ in range(300):
        shown = await status_of(client, execution_id)
        if shown["status"] in statuses:
            return shown
        await asyncio.sleep(0.1)
    raise AssertionError(f"{execution_id} stayed {shown['status']}")


async def received(cluster: ClusterOnLoopback, type_: str) -> list[tuple[dict[str, str], Any]]:
    """The events of this type the Broker took (the outbox relay publishes after the
    decision's commit, so an event may arrive just after the execution waits)."""
    for _ in range(100):
        found = [(h, e) for h, e in cluster.broker.received if e["type"] == type_]
        if found:
            return found
        await asyncio.sleep(0.05)
    return []


async def test_emit_reaches_the_broker_and_a_delivered_event_resumes_a_listen_elsewhere(
    cluster: ClusterOnLoopback,
) -> None:
    holder = cluster.replicas[0]
    async with holder.client(cluster.token) as client:
        started = await client.post("/api/v1/apps/confirm-order/executions", json={"order": "A1"})
        assert started.status_code == 202, started.text
        execution_id = started.json()["id"]
        await until(client, execution_id, {"waiting"})

        placed = await received(cluster, "dev.flowapp.test.order.placed")
        assert len(placed) == 1
        headers, event = placed[0]
        assert headers.get("Ce-Type", headers.get("ce-type")) == "dev.flowapp.test.order.placed"
        assert event["source"] == "https://shop.example/confirm-order"
        assert event["data"] == {"order": "A1#"}

        # The warehouse confirms through the Broker; its Trigger takes the event to the
        # other replica, which does not hold the execution.
        cluster.broker.replicas = [cluster.replicas[1]]
        confirmed = {
            "specversion": "1.0",
            "id": "confirm-A1",
            "source": "/warehouse",
            "type": "dev.flowapp.test.order.confirmed",
            "data": {"order": "A1#", "by": "warehouse"},
        }
        async with httpx.AsyncClient() as plain:
            sent = await plain.post(
                cluster.broker.url,
                content=orjson.dumps(confirmed),
                headers={"content-type": "application/cloudevents+json"},
            )
        assert sent.status_code == 202
        shown = await until(client, execution_id, {"completed", "faulted"})

    assert shown["status"] == "completed", shown
    assert shown["output"] == {"order": "A1#", "by": "warehouse"}
    delivered = [d for d in cluster.broker.deliveries if d.trigger == "confirm-order-events"]
    assert [(d.replica, d.status) for d in delivered] == [(cluster.replicas[1].name, 202)]
    assert orjson.loads(delivered[0].body) == {"listeners": 1}


async def test_an_event_nobody_waits_for_is_accepted_and_changes_nothing(
    cluster: ClusterOnLoopback,
) -> None:
    trigger = cluster.trigger("confirm-order-events")
    stray = {
        "specversion": "1.0",
        "id": "confirm-nobody",
        "source": "/warehouse",
        "type": "dev.flowapp.test.order.confirmed",
        "data": {"order": "Z9#"},
    }
    delivery = await cluster.broker.deliver(trigger, stray, cluster.replicas[0])
    assert delivery.status == 202
    assert orjson.loads(delivery.body) == {"listeners": 0}


async def test_a_stopping_replica_hands_its_executions_over_at_once(
    cluster: ClusterOnLoopback,
) -> None:
    """Last in this module: it stops a replica. A rolling update stops replicas with
    SIGTERM; the one stopping gives its leases back, so its executions are taken over
    now, not when the leases (10 s) run out."""
    leaving, staying = cluster.replicas
    async with leaving.client(cluster.token) as client:
        started = await client.post("/api/v1/apps/confirm-order/executions", json={"order": "B2"})
        execution_id = started.json()["id"]
        await until(client, execution_id, {"waiting"})
    assert owner_of(cluster, execution_id) == leaving.name
    await leaving.stop(signal.SIGTERM)
    assert leaving.process.returncode == 0, leaving.log.read_text()
    assert owner_of(cluster, execution_id) != leaving.name

    cluster.broker.replicas = [staying]
    confirmed = {
        "specversion": "1.0",
        "id": "confirm-B2",
        "source": "/warehouse",
        "type": "dev.flowapp.test.order.confirmed",
        "data": {"order": "B2#", "by": "night shift"},
    }
    delivery = await cluster.broker.deliver(cluster.trigger("confirm-order-events"), confirmed)
    assert delivery.status == 202
    async with staying.client(cluster.token) as client:
        shown = await until(client, execution_id, {"completed", "faulted"})
    assert shown["output"] == {"order": "B2#", "by": "night shift"}


def owner_of(cluster: ClusterOnLoopback, execution_id: str) -> str | None:
    schema = sql.Identifier(schema_name("confirm-order"))
    query = sql.SQL("SELECT owner FROM {}.executions WHERE id = %s").format(schema)
    with psycopg.connect(cluster.db) as connection:
        row = connection.execute(query, (execution_id,)).fetchone()
    return None if row is None else row[0]
