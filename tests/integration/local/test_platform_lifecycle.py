"""State that survives restarts and deletes, on the platform as ``flowapp up`` assembles
it: after a restart every app with traffic is Ready on its revision again and its
``schedule.after`` chain goes on; a deploy a crash cut short fails with the reason;
deleting an app removes everything of it, and an app created again with the name
starts from revision 1."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from flowapp.server import platform as p
from flowapp.store.platform.sql import SqlPlatformStore
from flowapp.store.port import ExecutionFilter

from .lifecycle_apps import CHARGE_FIXED, deploy, orders_project, running

WAITER = """\
document: {dsl: '1.0.3', namespace: default, name: waiter, version: '1.0.0'}
do:
  - pause: {wait: PT1H}
"""

TICKER = """\
document: {dsl: '1.0.3', namespace: default, name: ticker, version: '1.0.0'}
schedule:
  after: {milliseconds: 400}
do:
  - tick: {set: {tick: true}}
"""

NIGHTLY = """\
apiVersion: flowapp.dev/v1alpha1
kind: FlowApp
metadata: {name: nightly, namespace: default}
spec:
  triggers:
    - name: hourly
      cron: {every: PT1H}
  workflow:
    document: {dsl: '1.0.3', namespace: default, name: nightly, version: '1.0.0'}
    schedule:
      on: {one: {with: {type: com.example.wake}}}
    do:
      - note: {set: {woke: true}}
"""


async def test_after_a_restart_every_app_with_traffic_is_ready_on_its_revision(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    async with running(data) as up:
        await deploy(up, "orders", orders_project(tmp_path / "v1", charge=CHARGE_FIXED))
        await deploy(up, "orders", orders_project(tmp_path / "v2", charge=CHARGE_FIXED + "\n"))
    restarted = time.time()
    async with running(data) as up:
        view = await observed_since(up, "orders", restarted)
        found = {c["type"]: c for c in view.conditions}
        assert found["Ready"]["status"] == "True", found
        assert "revision orders-00002 is deployed" in found["Ready"]["message"]
        assert view.observation["deployed_revision"] == "orders-00002"
        assert set(view.observation["functions"]) == {"count", "charge"}
        done = await up.platform.invoke("orders", {"order": "r", "amount": 1}, wait=30)
        assert done.status == "completed"


async def test_a_deploy_cut_short_by_a_crash_fails_with_the_reason_at_the_next_start(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    async with running(data) as up:
        await deploy(up, "orders", orders_project(tmp_path / "v1", charge=CHARGE_FIXED))
    # What a crash during the next deploy leaves: a building revision, a running deploy.
    store = SqlPlatformStore(f"sqlite:///{data / 'flowapp.db'}")
    cut = store.create_revision("orders", digest="sha256:cut", resource={}, now=time.time())
    deploy_id = store.create_deploy("orders", revision_id=cut.id, now=time.time(), owner="local").id
    store.close()
    async with running(data) as up:
        record = await asyncio.to_thread(up.platform_store.get_deploy, deploy_id)
        assert record.status == "failed" and "interrupted" in record.message
        revision = await asyncio.to_thread(up.platform_store.get_revision, cut.id)
        assert (revision.status, revision.message) == ("failed", record.message)
        found = await wait_for_reason(up, "orders", "DeployFailed")
        assert "interrupted" in found["Ready"]["message"]
        view = await up.platform.get_app("orders")
        assert view.deployed_revision == "orders-00001"  # the previous one keeps serving
        done = await up.platform.invoke("orders", {"order": "c", "amount": 1}, wait=30)
        assert done.status == "completed"


async def test_deleting_an_app_removes_everything_of_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with running(data) as up:
        await up.platform.create_app(NIGHTLY)
        await up.platform.deploy("nightly")
        await up.platform.create_app(WAITER)
        await up.platform.deploy("waiter")
        waiting = await up.platform.invoke("waiter", {})
        await asyncio.sleep(0.3)
        assert up.platform.triggers["nightly"].status()
        assert "nightly" in up.platform.triggers.event_schedules
        (data / "logs" / "nightly-00001").mkdir(parents=True, exist_ok=True)
        cron_state = data / "cron-state.json"
        await up.platform.triggers.cron_state.save("nightly/hourly", datetime.now(UTC))

        await up.platform.delete_app("nightly")
        await up.platform.delete_app("waiter")

        assert "nightly" not in up.platform.triggers
        assert "nightly" not in up.platform.triggers.event_schedules
        assert not [key for key in up.platform.hosts if key[0] in ("nightly", "waiter")]
        for gone in ("revisions/nightly-00001", "logs/nightly-00001", "repos/nightly.git"):
            assert not (data / gone).exists(), gone
        assert "nightly/hourly" not in json.loads(cron_state.read_text())
        outcome = await up.runtime.wait_for(waiting.id, timeout=10)
        assert outcome.status == "cancelled"  # its code is gone with it

        await up.platform.create_app(NIGHTLY)
        again = await up.platform.deploy("nightly")
        assert again.revision_id == "nightly-00001"
        assert [r.number for r in await up.platform.list_revisions("nightly")] == [1]
        with pytest.raises(p.Conflict):
            await up.platform.rollback("nightly")  # nothing of the deleted app to go back to


async def test_a_schedule_after_chain_goes_on_after_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with running(data) as up:
        await up.platform.create_app(TICKER)
        await up.platform.deploy("ticker")
        first = await up.platform.invoke("ticker", {}, wait=10)
        assert first.status == "completed"
        await asyncio.sleep(0.2)  # the next start is pending when the platform stops
    async with running(data) as up:
        before = await count_executions(up, "ticker")
        # Two more starts, 400 ms apart: given 10 s, as a loaded machine may need.
        deadline = time.monotonic() + 10
        while (now := await count_executions(up, "ticker")) < before + 2:
            assert time.monotonic() < deadline, f"{now - before} new executions in 10 s"
            await asyncio.sleep(0.2)


async def test_a_schedule_on_subscription_goes_on_after_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    wake = {"specversion": "1.0", "source": "/test", "type": "com.example.wake", "data": {}}
    async with running(data) as up:
        await up.platform.create_app(NIGHTLY)
        await up.platform.deploy("nightly")
        await up.platform.publish_event({**wake, "id": "w1"})
        await wait_for_count(up, "nightly", 1)
    async with running(data) as up:
        await up.platform.publish_event({**wake, "id": "w2"})
        await wait_for_count(up, "nightly", 2)


async def wait_for_count(up: object, app: str, count: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while await count_executions(up, app) < count:
        assert time.monotonic() < deadline, f"{app} has fewer than {count} executions"
        await asyncio.sleep(0.1)


async def count_executions(up: object, app: str) -> int:
    store = up.store  # type: ignore[attr-defined]
    return int(await asyncio.to_thread(store.count_executions, ExecutionFilter(app=app)))


async def observed_since(up: object, app: str, since: float, timeout: float = 20) -> p.AppView:
    """The app once the syncer has written what it observes after ``since``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        view = await up.platform.get_app(app)  # type: ignore[attr-defined]
        if view.observation is not None and view.observation["observed_at"] >= since:
            ready = {c["type"]: c for c in view.conditions}.get("Ready", {})
            if ready.get("status") == "True" or view.observation["deployed_revision"] is None:
                return view
        await asyncio.sleep(0.2)
    raise AssertionError(f"{app} was not observed after the restart")


async def wait_for_reason(up: object, app: str, reason: str, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    found: dict = {}
    while time.monotonic() < deadline:
        view = await up.platform.get_app(app)  # type: ignore[attr-defined]
        found = {c["type"]: c for c in view.conditions}
        if found.get("Ready", {}).get("reason") == reason:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"{app} never had Ready reason {reason}: {found}")
