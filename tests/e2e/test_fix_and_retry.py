"""The journey the platform exists for, end to end through a real ``flowapp up``: a Python
function fails, its code is fixed in a clone of the app's repository, ``git push``
deploys the fix, and a retry from the failed task completes on the new revision without
running the earlier task again."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.e2e.platform_process import flowapp_up, wait_for_execution
from tests.e2e.test_platform_up import git
from tests.integration.local.lifecycle_apps import (
    CHARGE_BROKEN,
    CHARGE_FIXED,
    count_calls,
    orders_project,
)


def wait_for_revision(api: httpx.Client, app: str, revision: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    deploys: list[dict] = []
    while time.monotonic() < deadline:
        deploys = api.get(f"/api/v1/apps/{app}/deploys").json()["items"]
        if deploys and deploys[0]["revision"] == revision and deploys[0]["status"] != "running":
            assert deploys[0]["status"] == "succeeded", deploys[0]
            return
        time.sleep(0.2)
    raise AssertionError(f"{revision} was not deployed: {deploys[:1]}")


def test_a_failed_task_is_fixed_pushed_and_retried(tmp_path: Path) -> None:
    project = orders_project(tmp_path / "orders", charge=CHARGE_BROKEN)
    data = tmp_path / "data"
    with flowapp_up(data, "--app", str(project)) as platform, platform.client() as api:
        failed = api.post(
            "/api/v1/apps/orders/executions?wait=30", json={"order": "e2e", "amount": 7}
        )
        assert failed.json()["status"] == "faulted", failed.text
        execution_id = failed.json()["id"]

        host = platform.url.removeprefix("http://")
        clone = tmp_path / "clone"
        url = f"http://admin:{platform.token}@{host}/git/orders.git"
        git("clone", url, str(clone), cwd=tmp_path)
        (clone / "functions" / "charge" / "main.py").write_text(CHARGE_FIXED)
        git("commit", "-am", "Charge works again", cwd=clone)
        git("push", "origin", "main", cwd=clone)
        wait_for_revision(api, "orders", "orders-00002")

        retried = api.post(f"/api/v1/executions/{execution_id}/retry")
        assert retried.status_code == 202, retried.text
        assert retried.json() == {
            "id": execution_id,
            "action": "retry",
            "revision": "orders-00002",
            "previous_revision": "orders-00001",
        }
        shown = wait_for_execution(api, execution_id, timeout=60)
        assert shown["status"] == "completed", shown
        assert shown["output"] == {"charged": 7, "counted": True}
        assert shown["revision"] == "orders-00002"
        tasks = [(t["name"], t["status"], t["revision"]) for t in shown["tasks"]]
        assert tasks == [
            ("count", "completed", "orders-00001"),
            ("charge", "faulted", "orders-00001"),
            ("charge", "completed", "orders-00002"),
        ]
        assert count_calls(data, "e2e") == 1  # the task that had completed did not run again
