"""`emit` and `listen` through the platform's event bus, between apps, from the API's event
ingress, and across two `flowapp up` replicas sharing PostgreSQL."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.e2e.platform_process import create_and_deploy, flowapp_up, wait_for_execution

WAITER = """
document: {dsl: '1.0.3', namespace: e2e, name: waiter, version: '1.0.0'}
do:
  - paid:
      listen:
        to:
          one:
            with: {type: com.example.paid, data: '${ .order == $workflow.input.order }'}
  - done: {set: {order: '${ .[0].order }', amount: '${ .[0].amount }'}}
"""

PAYER = """
document: {dsl: '1.0.3', namespace: e2e, name: payer, version: '1.0.0'}
do:
  - pay:
      emit:
        event:
          with:
            source: https://e2e.example/payer
            type: com.example.paid
            data: {order: '${ .order }', amount: '${ .amount }'}
"""


def paid(order: str, amount: int) -> dict[str, object]:
    return {
        "specversion": "1.0",
        "id": f"paid-{order}",
        "source": "/e2e/shop",
        "type": "com.example.paid",
        "data": {"order": order, "amount": amount},
    }


def start_waiting(api: httpx.Client, order: str) -> str:
    started = api.post("/api/v1/apps/waiter/executions", json={"order": order})
    assert started.status_code == 202, started.text
    execution_id = started.json()["id"]
    wait_until_listening(api, execution_id)
    return str(execution_id)


def wait_until_listening(api: httpx.Client, execution_id: str, timeout: float = 20) -> None:
    """An event published before the listen is subscribed is not for it (as in Knative)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if api.get(f"/api/v1/executions/{execution_id}").json()["status"] == "waiting":
            return
        time.sleep(0.05)
    raise AssertionError(f"{execution_id} never began to listen")


def test_an_emitted_event_and_an_ingress_event_reach_their_listeners(tmp_path: Path) -> None:
    with flowapp_up(tmp_path / "data") as platform, platform.client() as api:
        create_and_deploy(api, WAITER, "waiter")
        create_and_deploy(api, PAYER, "payer")
        first, second = start_waiting(api, "A"), start_waiting(api, "B")

        payment = {"order": "A", "amount": 12}
        emitted = api.post("/api/v1/apps/payer/executions?wait=20", json=payment)
        assert emitted.status_code == 200, emitted.text
        done = wait_for_execution(api, first)
        assert done["status"] == "completed", done
        assert done["output"] == {"order": "A", "amount": 12}
        assert api.get(f"/api/v1/executions/{second}").json()["status"] == "waiting"

        assert api.post("/api/v1/events", json=paid("B", 30)).status_code == 202
        done = wait_for_execution(api, second)
        assert done["status"] == "completed" and done["output"] == {"order": "B", "amount": 30}


def test_an_event_received_by_one_replica_reaches_a_listener_held_by_another(
    tmp_path: Path, postgres_db: str
) -> None:
    first = flowapp_up(tmp_path / "a", "--db", postgres_db, "--owner", "replica-a")
    with first as holder, holder.client() as api:
        create_and_deploy(api, WAITER, "waiter")
        waiting = start_waiting(api, "A")
        second = flowapp_up(
            tmp_path / "b", "--db", postgres_db, "--owner", "replica-b", token=holder.token
        )
        with second as receiver, receiver.client() as other:
            assert other.post("/api/v1/events", json=paid("A", 5)).status_code == 202
            done = wait_for_execution(other, waiting)
        assert done["status"] == "completed", done
        assert done["output"] == {"order": "A", "amount": 5}
