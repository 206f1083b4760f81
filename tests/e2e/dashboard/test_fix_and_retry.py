"""Scenario 3: a Python function fails; the run view shows the faulted node with its
error; the code is fixed with a ``git push`` (which deploys a new revision); the failed
task is retried from the run view, which follows it live to the end: every node turns
``completed`` and the task that had completed before the fault did not run again.

The platform here is a ``flowapp up`` started with the ``orders`` project (``count``
then ``charge``, whose code raises)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.dashboard.conftest import axe_violations, keep_screenshot
from tests.e2e.platform_process import RunningPlatform, flowapp_up
from tests.e2e.test_fix_and_retry import wait_for_revision
from tests.e2e.test_platform_up import git
from tests.integration.local.lifecycle_apps import (
    CHARGE_BROKEN,
    CHARGE_FIXED,
    count_calls,
    orders_project,
)

COUNT = "/do/0/count"
CHARGE = "/do/1/charge"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[RunningPlatform]:
    folder = tmp_path_factory.mktemp("orders")
    project = orders_project(folder / "orders", charge=CHARGE_BROKEN)
    with flowapp_up(folder / "data", "--app", str(project)) as running:
        yield running


def run_node(page: Any, pointer: str) -> Any:
    return page.locator(f'.run-node[data-task="{pointer}"]')


def node_statuses(page: Any) -> dict[str, str]:
    return dict(
        page.locator(".run-node[data-task]").evaluate_all(
            "els => els.map(e => [e.dataset.task, e.dataset.status])"
        )
    )


def test_a_failed_function_is_fixed_by_a_push_and_retried_from_the_run_view(
    page: Any, platform: RunningPlatform, tmp_path: Path
) -> None:
    with platform.client() as api:
        failed = api.post(
            "/api/v1/apps/orders/executions?wait=30", json={"order": "dash", "amount": 7}
        )
    assert failed.json()["status"] == "faulted", failed.text
    execution_id = failed.json()["id"]

    # The executions list links to the run view.
    page.get_by_role("link", name="Executions").first.click()
    page.locator(f'[data-execution="{execution_id}"]').get_by_role("link").first.click()
    page.locator('.execution-status[data-status="faulted"]').wait_for()
    run_node(page, CHARGE).and_(page.locator('[data-status="faulted"]')).wait_for()
    assert node_statuses(page) == {COUNT: "completed", CHARGE: "faulted"}

    # The faulted node opens its error (RFC 7807 fields), input and attempts.
    run_node(page, CHARGE).click()
    panel = page.get_by_role("region", name="Selected task")
    page.locator(f'.task-panel[data-panel-task="{CHARGE}"]').wait_for()
    assert page.url.endswith("?task=" + CHARGE.replace("/", "%2F"))
    error = panel.locator(".problem-fields")
    error.wait_for()
    assert "the card service is down" in error.inner_text()
    assert error.locator('[data-field="instance"]').inner_text() == CHARGE
    assert json.loads(panel.get_by_label("Task input").inner_text()) == {
        "order": "dash",
        "amount": 7,
        "counted": True,
    }
    assert panel.locator(".attempt").count() == 1
    panel.get_by_role("heading", name="Log of charge").wait_for()
    # The timeline has a segment per run, coloured by status, in step with the graph.
    faulted_segment = page.locator(f'.segment[data-run-task="{CHARGE}"]')
    assert faulted_segment.get_attribute("data-status") == "faulted"
    page.locator(f'.segment[data-run-task="{COUNT}"]').click()
    page.locator(f'.task-panel[data-panel-task="{COUNT}"]').wait_for()
    assert "selected" in (run_node(page, COUNT).get_attribute("class") or "")
    assert axe_violations(page) == []
    keep_screenshot(page, "scenario3-faulted")

    # The fix: a clone of the app's repository, the function's code corrected, pushed.
    host = platform.url.removeprefix("http://")
    clone = tmp_path / "clone"
    git("clone", f"http://admin:{platform.token}@{host}/git/orders.git", str(clone), cwd=tmp_path)
    (clone / "functions" / "charge" / "main.py").write_text(CHARGE_FIXED)
    git("commit", "-am", "Charge works again", cwd=clone)
    git("push", "origin", "main", cwd=clone)
    with platform.client() as api:
        wait_for_revision(api, "orders", "orders-00002")

    # Retry from the failed task, in the run view; it follows the execution live.
    run_node(page, CHARGE).click()
    page.get_by_role("button", name="Retry from the failed task").click()
    page.get_by_text("retrying from the failed task on orders-00002").wait_for()
    page.locator('.execution-status[data-status="completed"]').wait_for(timeout=60_000)
    run_node(page, CHARGE).and_(page.locator('[data-status="completed"]')).wait_for()
    assert node_statuses(page) == {COUNT: "completed", CHARGE: "completed"}
    # The charge's two runs: the fault, then the retry's success on the new revision.
    attempts = page.locator(f'.task-panel[data-panel-task="{CHARGE}"] .attempt')
    attempts.nth(1).wait_for()
    assert attempts.evaluate_all("els => els.map(e => e.dataset.status)") == [
        "faulted",
        "completed",
    ]
    assert "orders-00002" in attempts.nth(1).inner_text()
    segments = page.locator(f'.segment[data-run-task="{CHARGE}"]')
    assert segments.evaluate_all("els => els.map(e => e.dataset.status)") == [
        "faulted",
        "completed",
    ]
    assert json.loads(page.get_by_label("Task output").inner_text()) == {
        "charged": 7,
        "counted": True,
    }

    # The earlier task did not run again: one run of count, one call of its function.
    with platform.client() as api:
        shown = api.get(f"/api/v1/executions/{execution_id}").json()
    runs = [(t["reference"], t["status"]) for t in shown["tasks"]]
    assert runs == [(COUNT, "completed"), (CHARGE, "faulted"), (CHARGE, "completed")]
    assert count_calls(platform.data_dir, "dash") == 1
    assert page.locator(f'.segment[data-run-task="{COUNT}"]').count() == 1
    assert axe_violations(page) == []
    keep_screenshot(page, "scenario3-retried")
