"""Scenario 1: log in; draw three tasks by dragging them from the palette (a Python
function call, a switch, a set), configure them in their forms, see a deliberate mistake
marked on its node, fix it, deploy, start an execution, see its result, and see every
node of its run view completed."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.dashboard.conftest import axe_violations, keep_screenshot
from tests.e2e.dashboard.helpers import (
    drag_from_palette,
    edge_tools,
    fill_field,
    node,
    problem_badge,
    select,
    yaml_text,
)
from tests.e2e.platform_process import RunningPlatform

ROOT_END = "end:/do"


def test_draw_configure_fix_deploy_and_run(page: Any, platform: RunningPlatform) -> None:
    page.get_by_role("link", name="New workflow").first.click()
    page.get_by_role("heading", name="New workflow").wait_for()
    # Start from an empty workflow: rename it, delete the starter's task.
    select(page, "/do/0/hello")
    page.locator(".inspector").get_by_role("button", name="Delete").click()
    node(page, "/do/0/hello").wait_for(state="detached")
    text = yaml_text(page).replace("name: my-workflow", "name: scorer")
    page.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(text)
    assert "do: []" in yaml_text(page)

    # 1. A call, dropped on the only edge (start -> end).
    drag_from_palette(page, "call", edge_tools(page, f"start:/do->{ROOT_END}#next"))
    node(page, "/do/0/callHttp").wait_for()
    select(page, "/do/0/callHttp")
    fill_field(page, "Name", "score")
    select(page, "/do/0/score")
    fill_field(page, "Function", "score")
    fill_field(page, "Arguments (with)", "amount: ${ .amount }")

    # 2. A switch, dropped on the edge after the call.
    drag_from_palette(page, "switch", edge_tools(page, f"/do/0/score->{ROOT_END}#next"))
    select(page, "/do/1/choose")
    fill_field(page, "Name", "route")
    select(page, "/do/1/route")
    # A deliberate mistake: an expression that does not compile.
    fill_field(page, "When (matched)", ".input.amount >")
    badge = problem_badge(page, "/do/1/route")
    badge.wait_for()
    assert badge.get_attribute("data-problems") == "1"
    problems = page.get_by_role("region", name="Problems")
    assert "/do/1/route/switch/0/matched/when" in problems.inner_text()
    assert page.get_by_role("button", name="Deploy as a new app").is_disabled()
    # Fixed: the badge goes away.
    fill_field(page, "When (matched)", ".input.amount > 10")
    badge.wait_for(state="detached")

    # 3. A set, dropped on the switch's default case: the case now leads to it.
    drag_from_palette(page, "set", edge_tools(page, f"/do/1/route->{ROOT_END}#case1"))
    select(page, "/do/2/setValues")
    fill_field(page, "Values to set", "verdict: big\namount: ${ .input.amount }")
    fill_field(page, "Name", "tag")

    text = yaml_text(page)
    assert "call: score" in text and "when: .input.amount > 10" in text
    assert "then: tag" in text and "verdict: big" in text
    page.locator('.problems [data-count="0"]').wait_for()
    assert axe_violations(page) == []
    keep_screenshot(page, "scenario1-drawn")

    # Deploy: the log streams, the outcome says which revision serves.
    page.get_by_role("button", name="Deploy as a new app").click()
    outcome = page.locator("[data-deploy-outcome]")
    outcome.wait_for(timeout=90_000)
    assert outcome.get_attribute("data-deploy-outcome") == "succeeded", outcome.inner_text()
    log = page.get_by_role("log", name="Deploy log").inner_text()
    assert "created app scorer" in log and "traffic" in log
    assert page.url.endswith("/apps/scorer")

    # Start an execution from the dashboard and see its result.
    page.get_by_label("Input (JSON)").fill(json.dumps({"amount": 42}))
    page.get_by_role("button", name="Start execution").click()
    result = page.locator(".run-result")
    result.wait_for(timeout=30_000)
    assert result.get_attribute("data-status") == "completed", result.inner_text()
    assert json.loads(result.locator("pre").inner_text()) == {"verdict": "big", "amount": 42}

    # The execution's run view: every node completed, every task ran once.
    result.get_by_role("link").click()
    page.locator('.execution-status[data-status="completed"]').wait_for()
    page.locator('.run-node[data-task="/do/2/tag"][data-status="completed"]').wait_for()
    nodes = page.locator(".run-node[data-task]")
    assert nodes.evaluate_all("els => els.map(e => [e.dataset.task, e.dataset.status])") == [
        ["/do/0/score", "completed"],
        ["/do/1/route", "completed"],
        ["/do/2/tag", "completed"],
    ]
    runs = page.locator(".task-runs [data-task]")
    statuses = runs.evaluate_all("els => els.map(e => [e.dataset.task, e.dataset.status])")
    assert statuses == [
        ["/do/0/score", "completed"],
        ["/do/1/route", "completed"],
        ["/do/2/tag", "completed"],
    ]
    with platform.client() as api:
        functions = api.get("/api/v1/apps/scorer/functions").json()["items"]
    assert [(f["name"], f["runtime"], f["has_code"]) for f in functions] == [
        ("score", "python", True)
    ]
