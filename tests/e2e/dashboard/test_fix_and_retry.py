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
from tests.e2e.platform_process import RunningPlatform, flowapp_up, wait_for_execution
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

    # A node is selected from the keyboard too (Enter on the focused node).
    page.locator(f'.react-flow__node[data-id="{CHARGE}"]').focus()
    page.keyboard.press("Enter")
    page.locator(f'.task-panel[data-panel-task="{CHARGE}"]').wait_for()

    # The deep link opens the run view with the task selected, on graph and timeline.
    page.goto(f"{platform.url}/executions/{execution_id}?task=%2Fdo%2F0%2Fcount")
    page.locator(f'.task-panel[data-panel-task="{COUNT}"]').wait_for()
    run_node(page, COUNT).and_(page.locator(".selected")).wait_for()
    assert "selected" in (page.locator(f'[data-row="{COUNT}"]').get_attribute("class") or "")


def runs_on_timeline(page: Any, pointer: str) -> int:
    """How many runs of a task the timeline draws (a segment may hold several)."""
    counts = page.locator(f'.segment[data-run-task="{pointer}"]').evaluate_all(
        "els => els.map(e => Number(e.dataset.runs))"
    )
    return sum(counts)


def rows(page: Any) -> list[str]:
    return page.locator("table.executions tbody tr").evaluate_all(
        "els => els.map(e => e.dataset.execution)"
    )


def test_executions_list_start_form_and_apps_metrics(page: Any, platform: RunningPlatform) -> None:
    """The executions list (filters, a cursor, live rows), the start form (sync and
    async) and the apps list with its conditions, traffic and metrics. Whatever the
    ``charge`` function does (the test above may have fixed it), the list agrees with
    the API."""
    page.goto(platform.url + "/executions")
    page.get_by_role("heading", name="Executions").wait_for()
    page.get_by_text("Start an execution").click()
    form = page.locator(".start-form")
    form.get_by_label("App").select_option("orders")
    form.get_by_label("Input", exact=True).fill(json.dumps({"order": "list-1", "amount": 3}))
    form.get_by_label("wait for the result").check()
    form.get_by_role("button", name="Start").click()
    result = form.locator(".run-result")
    result.wait_for(timeout=30_000)
    first = result.get_attribute("data-execution")
    status = result.get_attribute("data-status")
    assert status in ("completed", "faulted"), result.inner_text()
    if status == "completed":
        assert json.loads(result.locator("pre").inner_text()) == {"charged": 3, "counted": True}

    form.get_by_label("Input", exact=True).fill(json.dumps({"order": "list-2", "amount": 4}))
    form.get_by_label("start and go on").check()
    form.get_by_role("button", name="Start").click()
    page.wait_for_function(
        "(id) => { const r = document.querySelector('.start-form .run-result');"
        " return r && r.dataset.execution !== id; }",
        arg=first,
    )
    second = form.locator(".run-result").get_attribute("data-execution")
    with platform.client() as api:
        wait_for_execution(api, second, timeout=30)

    # Text in the input, then its status too: the URL keeps the filters.
    filters = page.get_by_role("form", name="Filter executions")
    filters.get_by_label("Input contains").fill('"order":"list-')
    filters.get_by_role("button", name="Filter").click()
    page.wait_for_function(
        "(ids) => ids.every(id => document.querySelector(`tr[data-execution='${id}']`))"
        " && document.querySelectorAll('table.executions tbody tr').length === 2",
        arg=[first, second],
    )
    assert "input_contains=" in page.url
    filters.get_by_label("Input contains").fill("list-1")
    filters.get_by_label("Status").select_option(status)
    filters.get_by_role("button", name="Filter").click()
    page.wait_for_function(
        "() => document.querySelectorAll('table.executions tbody tr').length === 1"
    )
    assert rows(page) == [first]
    assert page.locator(f'tr[data-execution="{first}"]').get_attribute("data-status") == status

    # A time range: nothing has started in 2999 yet.
    filters.get_by_label("Started after").fill("2999-01-01T00:00:00")
    filters.get_by_role("button", name="Filter").click()
    page.get_by_text("No executions match.").wait_for()
    assert "started_after=2999" in page.url
    filters.get_by_label("Started after").fill("")

    # Live: an execution started elsewhere shows up without a reload.
    filters.get_by_label("Status").select_option("")
    filters.get_by_label("Input contains").fill("list-3")
    filters.get_by_role("button", name="Filter").click()
    page.get_by_text("No executions match.").wait_for()
    with platform.client() as api:
        third = api.post("/api/v1/apps/orders/executions", json={"order": "list-3"}).json()["id"]
    page.locator(f'tr[data-execution="{third}"]').wait_for(timeout=15_000)
    assert axe_violations(page) == []

    # The cursor: a page of one, then the next one.
    page.goto(platform.url + '/executions?app=orders&input_contains="order":"list-&limit=1')
    page.locator("table.executions tbody tr").first.wait_for()
    assert rows(page) == [third]
    page.get_by_role("button", name="Older executions").click()
    page.wait_for_function(
        "() => document.querySelectorAll('table.executions tbody tr').length === 2"
    )
    assert rows(page) == [third, second]

    # The apps: conditions with reasons, the revision serving all traffic, functions and
    # their instances, the metrics of the calls just made.
    page.get_by_role("link", name="Apps").first.click()
    row = page.locator('tr[data-app="orders"]')
    row.wait_for()
    ready = row.locator('[data-condition="Ready"]')
    assert ready.get_attribute("data-condition-status") == "True", ready.inner_text()
    revision = row.locator("[data-traffic]").get_attribute("data-traffic")
    assert revision is not None and revision.startswith("orders-0000") and revision.endswith("=100")
    assert row.locator('.observed [data-name="charge"]').count() == 1
    row.locator(".metrics-summary").wait_for()
    row.get_by_role("button", name="Metrics").click()
    panel = page.get_by_role("region", name="Metrics of orders")
    charge = panel.locator('tr[data-function="charge"]')
    charge.wait_for()
    with platform.client() as api:
        wait_for_execution(api, third, timeout=30)  # its calls are counted once it ended
        metrics = api.get("/api/v1/apps/orders/metrics?series=false").json()
    calls = {f["function"]: f["requests"] for f in metrics["functions"]}
    assert calls["charge"] >= 3 and calls["count"] >= 3
    assert charge.locator('[data-metric="p95"]').inner_text().endswith("ms")
    assert panel.locator(".executions-figures").get_attribute("data-started") is not None
    assert charge.locator("svg.spark").count() == 1  # its requests per second over time
    assert axe_violations(page) == []
    keep_screenshot(page, "apps-metrics")


SLEEPER = """\
document: {dsl: '1.0.0', namespace: default, name: sleeper, version: '1.0.0'}
input:
  schema:
    format: json
    document:
      type: object
      required: [items]
      properties:
        items: {type: array, items: {type: integer}}
        note: {type: string, description: what this run is for}
do:
  - each:
      for: {each: item, in: '${ .items }'}
      do:
        - double:
            set: {value: '${ $item * 2 }'}
  - pause:
      wait: PT8S
  - done:
      set: {done: true}
"""


def test_the_run_view_follows_a_running_execution_live(
    page: Any, platform: RunningPlatform
) -> None:
    """Opened while the execution waits: the nodes change from the SSE stream without a
    reload (waiting, then completed); suspend and resume from the run view; a loop's
    iteration picker narrows the graph and the timeline to one iteration."""
    with platform.client() as api:
        created = api.post(
            "/api/v1/apps", content=SLEEPER, headers={"content-type": "application/yaml"}
        )
        assert created.status_code == 201, created.text
        deployed = api.post("/api/v1/apps/sleeper/deploys")
        assert deployed.status_code == 201, deployed.text
        started = api.post("/api/v1/apps/sleeper/executions", json={"items": [1, 2, 3]})
        execution_id = started.json()["id"]

    page.goto(f"{platform.url}/executions/{execution_id}")
    run_node(page, "/do/1/pause").and_(page.locator('[data-status="waiting"]')).wait_for()
    assert run_node(page, "/do/2/done").get_attribute("data-status") == "pending"
    page.locator(".live").wait_for()
    page.get_by_role("button", name="Suspend").click()
    page.locator('.execution-status[data-status="suspended"]').wait_for(timeout=30_000)
    page.get_by_role("button", name="Resume").click()
    page.locator('.execution-status[data-status="completed"]').wait_for(timeout=30_000)
    assert set(node_statuses(page).values()) == {"completed"}, node_statuses(page)

    # Three iterations of the loop; picking one narrows the timeline to its run.
    inner = "/do/0/each/do/0/double"
    assert runs_on_timeline(page, inner) == 3
    picker = run_node(page, "/do/0/each").get_by_label("Iteration")
    assert picker.locator("option").all_inner_texts() == ["all (3)", "0", "1", "2"]
    picker.select_option("1")
    page.wait_for_function(
        "(task) => [...document.querySelectorAll(`.segment[data-run-task='${task}']`)]"
        ".reduce((n, s) => n + Number(s.dataset.runs), 0) === 1",
        arg=inner,
    )
    run_node(page, inner).click()
    output = page.get_by_label("Task output")
    assert json.loads(output.inner_text()) == {"value": 4}
    assert axe_violations(page) == []
    keep_screenshot(page, "run-view-live")

    # Re-run with an edited input: a new execution that says which one it re-runs.
    # The workflow's input.schema gives the form its fields; the JSON follows them.
    page.get_by_role("button", name="Re-run with edited input").click()
    rerun_form = page.locator(".rerun-form")
    rerun_form.get_by_label("items (required)").fill("[5]")
    rerun_form.get_by_label("note", exact=True).fill("again")
    rerun_form.get_by_role("button", name="JSON").click()
    assert json.loads(rerun_form.get_by_label("New input", exact=True).input_value()) == {
        "items": [5],
        "note": "again",
    }
    assert axe_violations(page) == []
    page.get_by_role("button", name="Start with this input").click()
    page.wait_for_url(lambda url: execution_id not in url.split("/executions/")[1])
    new_id = page.url.split("/executions/")[1].split("?")[0]
    page.locator('.execution-status[data-status="completed"]').wait_for(timeout=30_000)
    assert page.locator(".run-summary").get_by_role("link", name=execution_id).count() == 1
    with platform.client() as api:
        rerun = api.get(f"/api/v1/executions/{new_id}").json()
    assert (rerun["input"], rerun["rerun_of"]) == ({"items": [5], "note": "again"}, execution_id)
    assert runs_on_timeline(page, inner) == 1

    # The start form of the executions page builds the same form from the app's workflow.
    page.goto(f"{platform.url}/executions?app=sleeper")
    start = page.locator(".start-form")
    start.get_by_label("items (required)").fill("[1, 2]")
    start.get_by_label("wait for the result").check()
    start.get_by_role("button", name="Start").click()
    start.locator('.run-result[data-status="completed"]').wait_for(timeout=30_000)


NEST = """\
document: {dsl: '1.0.0', namespace: default, name: nest, version: '1.0.0'}
do:
  - inner:
      if: '${ .depth < 1 }'
      run:
        workflow:
          namespace: default
          name: nest
          version: '1.0.0'
          input: {depth: '${ .depth + 1 }'}
  - done:
      set: {depth: '${ .depth }'}
"""


def test_a_sub_workflow_opens_in_one_click(page: Any, platform: RunningPlatform) -> None:
    """A workflow that runs itself once (`run: workflow`): its run task links to the
    sub-workflow's execution, whose run view names the parent; there the same task was
    skipped (its `if` was false)."""
    with platform.client() as api:
        created = api.post(
            "/api/v1/apps", content=NEST, headers={"content-type": "application/yaml"}
        )
        assert created.status_code == 201, created.text
        assert api.post("/api/v1/apps/nest/deploys").status_code == 201
        parent = api.post("/api/v1/apps/nest/executions?wait=30", json={"depth": 0}).json()
        assert parent["status"] == "completed", parent
        children = api.get(f"/api/v1/executions/{parent['id']}/children").json()["items"]
    assert [c["workflow"]["name"] for c in children] == ["nest"]

    page.goto(f"{platform.url}/executions/{parent['id']}")
    page.locator('.execution-status[data-status="completed"]').wait_for()
    run_node(page, "/do/0/inner").get_by_role("link", name="open sub-workflow").click()
    page.wait_for_function(
        "(id) => location.pathname === `/executions/${id}`", arg=children[0]["id"]
    )
    page.locator('.execution-status[data-status="completed"]').wait_for()
    run_node(page, "/do/0/inner").and_(page.locator('[data-status="skipped"]')).wait_for()
    assert page.locator(".run-summary").get_by_role("link", name=parent["id"]).count() == 1
    assert axe_violations(page) == []
