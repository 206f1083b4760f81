"""Scenario 4: undo and redo a sequence of ten edits, made on the canvas, in forms and
in the text; each undo gives back the text as it was before that edit, each redo the
text after it."""

from __future__ import annotations

import itertools
from typing import Any

from tests.e2e.dashboard.conftest import keep_screenshot
from tests.e2e.dashboard.helpers import (
    edge_tools,
    fill_field,
    node,
    replace_text,
    select,
    wait_for_text,
    yaml_text,
)


def test_ten_edits_undone_and_redone(page: Any) -> None:
    page.goto(page.url.rsplit("/", 1)[0] + "/new")
    node(page, "/do/0/hello").wait_for()
    texts = [yaml_text(page)]

    def edited(check: str) -> None:
        page.locator(f"{check}").first.wait_for()
        texts.append(yaml_text(page))
        assert texts[-1] != texts[-2]

    palette = page.get_by_role("navigation", name="Task palette")
    select(page, "/do/0/hello")
    palette.get_by_role("button", name="Wait", exact=True).click()  # 1: add after hello
    edited('[data-task="/do/1/pause"]')
    fill_field(page, "Wait for", "PT5S")  # 2: a form field of the new (selected) task
    edited('[data-task="/do/1/pause"]')
    palette.get_by_role("button", name="Set", exact=True).click()  # 3: add after pause
    edited('[data-task="/do/2/setValues"]')
    fill_field(page, "Values to set", "done: true")  # 4
    edited('[data-task="/do/2/setValues"]')
    select(page, "/do/1/pause")
    fill_field(page, "Name", "rest")  # 5: rename
    edited('[data-task="/do/1/rest"]')
    page.locator(".inspector").get_by_role("button", name="Move up").click()  # 6: move
    edited('[data-task="/do/0/rest"]')
    page.locator(".inspector").get_by_role("button", name="Copy").click()
    page.locator(".inspector").get_by_role("button", name="Paste after").click()  # 7: paste
    edited('[data-task="/do/1/rest2"]')
    edge = edge_tools(page, "/do/2/hello->/do/3/setValues#next")
    edge.get_by_role("button", name="Add a task").click()
    edge.get_by_role("menuitem", name="Emit").click()  # 8: "+" on an edge
    edited('[data-task="/do/3/emitEvent"]')
    select(page, "/do/3/emitEvent")
    page.locator(".inspector").get_by_role("button", name="Delete").click()  # 9: delete
    node(page, "/do/3/emitEvent").wait_for(state="detached")
    texts.append(yaml_text(page))
    replace_text(page, texts[-1].replace("name: my-workflow", "name: typed"))  # 10: text
    page.wait_for_timeout(900)  # a burst of typing is one step: let it end
    texts.append(yaml_text(page))
    assert "name: typed" in texts[-1]
    assert len(texts) == 11 and all(a != b for a, b in itertools.pairwise(texts))

    undo = page.get_by_role("toolbar", name="Edit").get_by_role("button", name="Undo")
    redo = page.get_by_role("toolbar", name="Edit").get_by_role("button", name="Redo")
    for expected in reversed(texts[:-1]):
        undo.click()
        wait_for_text(page, expected)
    assert undo.is_disabled()
    node(page, "/do/0/hello").wait_for()
    for expected in texts[1:]:
        redo.click()
        wait_for_text(page, expected)
    assert redo.is_disabled()
    assert "name: typed" in yaml_text(page)
    # Keyboard undo outside the text works the same.
    page.locator(".editor-bar h1").click()
    page.keyboard.press("Control+z")
    wait_for_text(page, texts[-2])
    keep_screenshot(page, "scenario4-undo-redo")
