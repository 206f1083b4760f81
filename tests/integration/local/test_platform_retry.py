"""Fix and retry through the platform: a function fails, its fix is deployed as a new
revision, and the retry runs the remaining tasks there (the tasks that completed are not
run again); when the fix moved the completed tasks, the retry stays on the execution's
own revision, whose functions are started again on demand. Real Python functions."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowapp.server import platform as p

from .lifecycle_apps import (
    CHARGE_BROKEN,
    CHARGE_FIXED,
    ORDERS_MOVED,
    count_calls,
    deploy,
    orders_project,
    running,
)


async def test_a_retry_after_a_fix_runs_the_rest_on_the_serving_revision(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with running(data) as up:
        await deploy(up, "orders", orders_project(tmp_path / "v1", charge=CHARGE_BROKEN))
        failed = await up.platform.invoke("orders", {"order": "o-1", "amount": 5}, wait=30)
        assert failed.status == "faulted", failed
        assert "the card service is down" in str(failed.error)

        fixed = await deploy(up, "orders", orders_project(tmp_path / "v2", charge=CHARGE_FIXED))
        assert fixed.revision_id == "orders-00002"
        started = await up.platform.retry(failed.id)
        assert (started.revision, started.previous_revision) == ("orders-00002", "orders-00001")
        outcome = await up.runtime.wait_for(failed.id, timeout=30)

        assert (outcome.status, outcome.output) == ("completed", {"charged": 5, "counted": True})
        assert count_calls(data, "o-1") == 1  # `count` completed before: not called again
        runs = up.store.task_runs(failed.id)
        assert [(r.name, r.status, r.revision) for r in runs] == [
            ("count", "completed", "orders-00001"),
            ("charge", "faulted", "orders-00001"),
            ("charge", "completed", "orders-00002"),
        ]
        record = up.store.get_execution(failed.id)
        assert record.revision == "orders-00002"  # it runs on (and recovers with) the new one
        assert record.workflow_id == up.platform.hosts[("orders", "orders-00002")].workflow.id


async def test_a_retry_stays_on_its_revision_when_the_fix_moved_completed_tasks(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    async with running(data) as up:
        await deploy(up, "orders", orders_project(tmp_path / "v1", charge=CHARGE_BROKEN))
        failed = await up.platform.invoke("orders", {"order": "o-2", "amount": 1}, wait=30)
        assert failed.status == "faulted"
        moved = orders_project(tmp_path / "v2", charge=CHARGE_FIXED, resource=ORDERS_MOVED)
        await deploy(up, "orders", moved)
        await up.platform.stop_idle_revisions()  # the old revision lost its traffic: stopped
        assert ("orders", "orders-00001") not in up.platform.hosts

        started = await up.platform.retry(failed.id)
        assert (started.revision, started.previous_revision) == ("orders-00001", "orders-00001")
        outcome = await up.runtime.wait_for(failed.id, timeout=30)

        # Its own (broken) code ran again, started on demand; not a 503 for want of it.
        assert outcome.status == "faulted"
        assert "the card service is down" in str(outcome.error), outcome.error
        assert count_calls(data, "o-2") == 1
        runs = up.store.task_runs(failed.id)
        assert {r.revision for r in runs} == {"orders-00001"}


async def test_a_rerun_starts_on_the_serving_revision(tmp_path: Path) -> None:
    async with running(tmp_path / "data") as up:
        await deploy(up, "orders", orders_project(tmp_path / "v1", charge=CHARGE_BROKEN))
        failed = await up.platform.invoke("orders", {"order": "o-3", "amount": 2}, wait=30)
        await deploy(up, "orders", orders_project(tmp_path / "v2", charge=CHARGE_FIXED))
        again = await up.platform.rerun(failed.id)
        assert (again.rerun_of, again.revision) == (failed.id, "orders-00002")
        outcome = await up.runtime.wait_for(again.id, timeout=30)
        assert (outcome.status, outcome.output) == ("completed", {"charged": 2, "counted": True})

        edited = await up.platform.rerun(
            failed.id, replace_input=True, input={"order": "o-3b", "amount": 5}
        )
        assert (edited.rerun_of, edited.revision) == (failed.id, "orders-00002")
        outcome = await up.runtime.wait_for(edited.id, timeout=30)
        assert (outcome.status, outcome.output) == ("completed", {"charged": 5, "counted": True})
        record = up.store.get_execution(edited.id)
        assert record is not None and record.rerun_of == failed.id
        assert record.input == {"order": "o-3b", "amount": 5}


async def test_only_a_faulted_execution_of_a_live_app_is_retried(tmp_path: Path) -> None:
    async with running(tmp_path / "data") as up:
        await deploy(up, "orders", orders_project(tmp_path / "v1", charge=CHARGE_FIXED))
        done = await up.platform.invoke("orders", {"order": "o-4", "amount": 3}, wait=30)
        assert done.status == "completed"
        with pytest.raises(p.Conflict, match="not faulted"):
            await up.platform.retry(done.id)
        with pytest.raises(p.NotFound):
            await up.platform.retry("no-such-execution")

        await deploy(up, "orders", orders_project(tmp_path / "v2", charge=CHARGE_BROKEN))
        failed = await up.platform.invoke("orders", {"order": "o-5", "amount": 3}, wait=30)
        await up.platform.delete_app("orders")
        await deploy(up, "orders", orders_project(tmp_path / "v3", charge=CHARGE_FIXED))
        with pytest.raises(p.Conflict, match="was deleted"):  # the new app is another app
            await up.platform.retry(failed.id)
