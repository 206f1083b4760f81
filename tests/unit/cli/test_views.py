"""What the CLI prints about retries and task runs, from the API's JSON."""

from __future__ import annotations

from rich.console import Console

from flowapp.cli.client.control import started_note
from flowapp.cli.tables import task_runs_table


def render(table: object) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(table)
    return console.export_text()


def test_a_retry_says_which_revision_it_runs_on() -> None:
    moved = {"id": "e1", "revision": "shop-00002", "previous_revision": "shop-00001"}
    stayed = {"id": "e1", "revision": "shop-00001", "previous_revision": "shop-00001"}
    assert started_note("retry", "e1", "e1", moved) == (
        "retrying e1 on revision shop-00002 (it ran on shop-00001)"
    )
    assert started_note("retry", "e1", "e1", stayed) == "retrying e1 on revision shop-00001"
    assert started_note("retry", "e1", "e1", {"id": "e1"}) == "retrying e1"
    rerun = {"id": "e2", "revision": "shop-00002"}
    assert started_note("rerun", "e1", "e2", rerun) == "re-run of e1: e2 on revision shop-00002"


def task(name: str, status: str, revision: str | None) -> dict[str, object]:
    return {"name": name, "reference": f"/do/0/{name}", "status": status, "attempt": 1,
            "output": None, "error": None, "revision": revision,
            "started_at": None, "ended_at": None}  # fmt: skip


def test_task_runs_show_their_revision_when_a_retry_moved_the_execution() -> None:
    execution = {"id": "e1", "status": "completed", "revision": "shop-00002"}
    moved = {**execution, "tasks": [task("a", "completed", "shop-00001"),
                                     task("b", "completed", "shop-00002")]}  # fmt: skip
    text = render(task_runs_table(moved))
    assert "revision" in text and "shop-00001" in text.split("/do/0/a")[1].splitlines()[0]
    same = {**execution, "tasks": [task("a", "completed", "shop-00002")]}
    assert "│ revision" not in render(task_runs_table(same))
    skipped = {**execution, "tasks": [task("a", "skipped", "shop-00002")]}
    assert "skipped" in render(task_runs_table(skipped))
