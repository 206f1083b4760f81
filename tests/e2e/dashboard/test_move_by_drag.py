"""Moving by drag and drop: a task node dragged onto an edge inside a container moves
into that list (its text, comments included, goes along); a palette item dropped on a
container is added to the container's list."""

from __future__ import annotations

from typing import Any

from tests.e2e.dashboard.conftest import keep_screenshot
from tests.e2e.dashboard.helpers import edge_tools, node, replace_text, task_pointers, yaml_text

GUARDED = """\
document: {dsl: '1.0.3', namespace: default, name: guarded, version: '1.0.0'}
do:
  # moves into the try
  - first:
      set: {a: 1}
  - guard:
      try:
        - inner:
            set: {b: 2}
      catch:
        errors: {with: {status: 500}}
  - last:
      set: {c: 3}
"""


def test_drag_a_task_into_a_container_and_drop_a_new_one_in_it(page: Any) -> None:
    page.goto(page.url.rsplit("/", 1)[0] + "/new")
    node(page, "/do/0/hello").wait_for()
    replace_text(page, GUARDED)
    node(page, "/do/1/guard/try/0/inner").wait_for()

    target = edge_tools(page, "start:/do/1/guard/try->/do/1/guard/try/0/inner#next")
    node(page, "/do/0/first").drag_to(target)
    node(page, "/do/0/guard/try/0/first").wait_for()
    assert task_pointers(page) == [
        "/do/0/guard",
        "/do/0/guard/try/0/first",
        "/do/0/guard/try/1/inner",
        "/do/1/last",
    ]
    text = yaml_text(page)
    assert (
        "      try:\n        # moves into the try\n        - first:\n            set: {a: 1}\n"
        in text
    )

    page.locator('[data-palette="wait"]').drag_to(
        node(page, "/do/0/guard").locator(".container-head")
    )
    node(page, "/do/0/guard/try/2/pause").wait_for()
    assert "        - pause:\n            wait: PT1S" in yaml_text(page)
    keep_screenshot(page, "move-by-drag")
