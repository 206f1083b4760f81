"""What the dashboard's browser tests do in the page: read and write the YAML text,
find a task's node, drag from the palette, use the selected task's form."""

from __future__ import annotations

import re
from typing import Any


def yaml_text(page: Any) -> str:
    """The text in the editor, line by line as CodeMirror shows it (all of it: the tests'
    workflows are short enough for every line to be drawn)."""
    lines = page.locator(".cm-content .cm-line").all_inner_texts()
    return "\n".join(line.removesuffix("\n") for line in lines)  # an empty line reads "\n"


def replace_text(page: Any, text: str) -> None:
    page.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(text)


def node(page: Any, pointer: str) -> Any:
    return page.locator(f'[data-task="{pointer}"]')


def edge_tools(page: Any, edge_id: str) -> Any:
    return page.locator(f'[data-edge="{edge_id}"]')


def drag_from_palette(page: Any, item: str, target: Any) -> None:
    """Drag a palette item onto ``target`` until a task is added. Chromium sometimes drops
    a synthetic HTML5 drag on a loaded machine (no drop event at all); the drag is then
    made again, at most three times: a drop that adds nothing still fails the test."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    count = "() => document.querySelectorAll('[data-task]').length"
    before = page.evaluate(count)
    for _ in range(3):
        page.locator(f'[data-palette="{item}"]').drag_to(target)
        try:
            page.wait_for_function(f"(n) => ({count})() > n", arg=before, timeout=5_000)
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError(f"dropping {item} added no task")


def select(page: Any, pointer: str) -> None:
    node(page, pointer).click()
    page.locator(f'[data-inspector="{pointer}"]').wait_for()


def fill_field(page: Any, label: str, value: str) -> None:
    """A settings field of the selected task: typed, then committed (Tab leaves it)."""
    field = page.locator(".inspector").get_by_label(label, exact=True)
    field.fill(value)
    field.press("Tab")


def problem_badge(page: Any, pointer: str) -> Any:
    return node(page, pointer).locator("[data-problems]")


def task_pointers(page: Any) -> list[str]:
    pointers = page.locator("[data-task]").evaluate_all("els => els.map(e => e.dataset.task)")
    return sorted(set(pointers))


def without_blank_lines(text: str) -> str:
    return re.sub(r"\n+", "\n", text).strip()


def wait_for_text(page: Any, expected: str) -> None:
    """Until the editor holds exactly ``expected`` (read as ``yaml_text`` reads it)."""
    page.wait_for_function(
        "(want) => [...document.querySelectorAll('.cm-content .cm-line')]"
        ".map(l => l.innerText.replace(/\\n$/, '')).join('\\n') === want",
        arg=expected,
    )
