"""The editor of an existing app: each call node shows its function's runtime, a call
to a function without code is marked and its folder can be created from the templates
(in a commit, as `flowapp new function` does). And a token that stops working mid-
session loses nothing: the page says so, the draft survives a reload, logging in again
carries on."""

from __future__ import annotations

from typing import Any

from tests.e2e.dashboard.conftest import keep_screenshot
from tests.e2e.dashboard.helpers import (
    fill_field,
    node,
    problem_badge,
    replace_text,
    select,
    yaml_text,
)
from tests.e2e.platform_process import RunningPlatform

SHOP = """\
# The shop's workflow, drawn and edited in the dashboard.
document: {dsl: '1.0.3', namespace: default, name: shop, version: '1.0.0'}
do:
  - charge:
      call: charge
"""


def test_a_function_without_code_is_marked_and_created(
    page: Any, platform: RunningPlatform
) -> None:
    with platform.client() as api:
        created = api.post(
            "/api/v1/apps", content=SHOP, headers={"content-type": "application/yaml"}
        )
        assert created.status_code == 201, created.text
    page.goto(f"{platform.url}/apps/shop")
    charge = node(page, "/do/0/charge")
    charge.wait_for()
    assert charge.locator(".runtime").inner_text() == "python"
    assert page.locator('[data-palette="call:charge"]').is_visible()
    assert yaml_text(page).strip() == SHOP.strip()

    select(page, "/do/0/charge")
    page.get_by_role("navigation", name="Task palette").get_by_role(
        "button", name="Call", exact=True
    ).click()
    select(page, "/do/1/callHttp")
    fill_field(page, "Function", "notify")
    fill_field(page, "Arguments (with)", "")
    marker = node(page, "/do/1/callHttp").locator("[data-no-code]")
    marker.wait_for()
    problem_badge(page, "/do/1/callHttp").wait_for()
    clone = page.locator(".function-panel").inner_text()
    assert f"git clone {platform.url}/git/shop.git" in clone

    page.get_by_role("button", name="Create functions/notify from the template").click()
    marker.wait_for(state="detached")
    problem_badge(page, "/do/1/callHttp").wait_for(state="detached")
    assert node(page, "/do/1/callHttp").locator(".runtime").inner_text() == "python"
    with platform.client() as api:
        functions = {f["name"]: f for f in api.get("/api/v1/apps/shop/functions").json()["items"]}
    assert functions["notify"]["has_code"] and functions["notify"]["declared"]
    keep_screenshot(page, "editor-function-created")

    # A new revision from the editor: the text is committed, then deployed.
    page.get_by_role("button", name="Save and deploy shop").click()
    outcome = page.locator("[data-deploy-outcome]")
    outcome.wait_for(timeout=90_000)
    assert outcome.get_attribute("data-deploy-outcome") == "succeeded", outcome.inner_text()
    with platform.client() as api:
        saved = api.get("/api/v1/apps/shop/workflow").json()["text"]
        app = api.get("/api/v1/apps/shop").json()
    assert "call: notify" in saved and saved.startswith("# The shop's workflow")
    assert app["deployed_revision"] == "shop-00001"


def test_a_node_is_selected_from_the_keyboard(page: Any, platform: RunningPlatform) -> None:
    page.goto(f"{platform.url}/new")
    hello = page.locator('.react-flow__node[data-id="/do/0/hello"]')
    hello.wait_for()
    hello.focus()
    page.keyboard.press("Enter")
    page.locator('[data-inspector="/do/0/hello"]').wait_for()


def test_an_expired_token_loses_nothing(page: Any, platform: RunningPlatform) -> None:
    with platform.client() as api:
        made = api.post("/api/v1/tokens", json={"name": "browser", "role": "developer"}).json()
    page.get_by_role("button", name="Log out").click()
    page.fill('input[name="token"]', made["token"])
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Apps").wait_for()

    page.goto(f"{platform.url}/new")
    node(page, "/do/0/hello").wait_for()
    # Each change is validated (debounced): wait for that answer before going on, so
    # that the token is revoked between two validations, not during one.
    with page.expect_response(lambda answer: "/api/v1/validate" in answer.url) as checked:
        replace_text(page, yaml_text(page).replace("my-workflow", "kept-draft"))
    assert checked.value.status == 200
    with platform.client() as api:
        assert api.delete(f"/api/v1/tokens/{made['id']}").status_code == 204

    with page.expect_response(lambda answer: "/api/v1/validate" in answer.url) as refused:
        replace_text(page, yaml_text(page).replace("kept-draft", "kept-draft-2"))
    assert refused.value.status == 401
    page.get_by_text("Your token no longer works").wait_for()
    keep_screenshot(page, "session-expired")
    page.reload()
    page.get_by_text("Your token no longer works").wait_for()
    assert "name: kept-draft-2" in yaml_text(page)
    assert page.get_by_text("Your unsaved draft was restored.").is_visible()

    page.fill('input[name="token"]', platform.token)
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("Your token no longer works").wait_for(state="detached")
    assert "name: kept-draft-2" in yaml_text(page)
