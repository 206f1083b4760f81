"""Scenario 2: the text and the canvas kept in step both ways. A text edit redraws the
graph (keeping the selection); text that does not parse leaves the last good graph,
greyed, with the error and its line; a canvas edit changes the text, comments kept."""

from __future__ import annotations

from typing import Any

from tests.e2e.dashboard.conftest import axe_violations, keep_screenshot
from tests.e2e.dashboard.helpers import (
    edge_tools,
    fill_field,
    node,
    replace_text,
    select,
    task_pointers,
    yaml_text,
)

COMMENTED = """\
# Greets, then shouts. (This comment must survive canvas edits.)
document:
  dsl: '1.0.3'
  namespace: default
  name: greeter
  version: '0.1.0'
do:
  # first the greeting
  - greet:
      set:
        message: ${ "Hello, " + .name }   # built with jq
  - shout:
      set:
        message: ${ .message | ascii_upcase }
"""


def test_text_edits_redraw_and_canvas_edits_rewrite_keeping_comments(page: Any) -> None:
    page.goto(page.url.rsplit("/", 1)[0] + "/new")
    node(page, "/do/0/hello").wait_for()
    select(page, "/do/0/hello")

    # Text -> graph.
    replace_text(page, COMMENTED)
    node(page, "/do/1/shout").wait_for()
    assert task_pointers(page) == ["/do/0/greet", "/do/1/shout"]

    # The selection follows the text: select shout, rename it in the text.
    select(page, "/do/1/shout")
    replace_text(page, COMMENTED.replace("- shout:", "- yell:"))
    node(page, "/do/1/yell").wait_for()
    replace_text(page, COMMENTED)
    node(page, "/do/1/shout").wait_for()
    select(page, "/do/1/shout")
    replace_text(page, COMMENTED + "  - wave:\n      wait: PT1S\n")
    node(page, "/do/2/wave").wait_for()
    assert page.locator('[data-inspector="/do/1/shout"]').is_visible()
    # The selection is a deep link: a reload opens the same draft with the same task.
    assert page.url.endswith("/new?task=%2Fdo%2F1%2Fshout")
    page.reload()
    page.locator('[data-inspector="/do/1/shout"]').wait_for()
    assert "- wave:" in yaml_text(page)

    # Text that does not parse: the last good graph stays, greyed, with the error's line.
    replace_text(page, COMMENTED.replace("  - shout:", "  - shout: [unclosed"))
    banner = page.locator("[data-parse-error]")
    banner.wait_for()
    assert "line" in banner.inner_text()
    assert page.locator(".canvas.stale").is_visible()
    node(page, "/do/2/wave").wait_for()  # drawn once the (cold) layout worker answers
    # The greyed graph takes no edits: they would apply to text that does not parse.
    edge_tools(page, "/do/0/greet->/do/1/shout#next").get_by_role(
        "button", name="Add a task"
    ).click()
    page.get_by_role("menuitem", name="Set").click()
    page.get_by_text("add set: fix the YAML first").wait_for()
    assert "[unclosed" in yaml_text(page)
    replace_text(page, COMMENTED)
    banner.wait_for(state="detached")
    node(page, "/do/2/wave").wait_for(state="detached")

    # Canvas -> text: "+" on the edge between the two tasks adds a wait there.
    edge = edge_tools(page, "/do/0/greet->/do/1/shout#next")
    edge.get_by_role("button", name="Add a task").click()
    edge.get_by_role("menuitem", name="Wait").click()
    node(page, "/do/1/pause").wait_for()
    text = yaml_text(page)
    assert text.index("- greet:") < text.index("- pause:") < text.index("- shout:")
    assert "wait: PT1S" in text
    for comment in (
        "# Greets, then shouts. (This comment must survive canvas edits.)",
        "# first the greeting",
        "# built with jq",
    ):
        assert comment in text

    # A form edit and a rename on the canvas side rewrite only what they change.
    select(page, "/do/1/pause")
    fill_field(page, "Wait for", "PT2S")
    fill_field(page, "Name", "breathe")
    node(page, "/do/1/breathe").wait_for()
    text = yaml_text(page)
    assert "- breathe:\n      wait: PT2S" in text
    expected = COMMENTED.replace("  - shout:", "  - breathe:\n      wait: PT2S\n  - shout:")
    assert text.strip() == expected.strip()
    assert axe_violations(page) == []
    keep_screenshot(page, "scenario2-text-and-canvas")
