"""Executions and their task runs as tables, from the API's JSON (``flowapp.server.views``).

A local database's records are turned into that JSON first, so a table looks the same
whether it shows a server or a local store. Ids are never cut: a table is the place
people copy them from.
"""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

from flowapp.cli.output import duration, short, status_text


def print_executions(items: list[dict[str, Any]], *, source: str) -> None:
    """A line saying where they are (a server or a local store), then the table."""
    from flowapp.cli.output import stdout

    console = stdout()
    console.print(f"Executions in {source}", soft_wrap=True, markup=False)
    console.print(executions_table(items))


def executions_table(items: list[dict[str, Any]]) -> Table:
    table = Table()
    table.add_column("id", no_wrap=True, min_width=_widest(item["id"] for item in items))
    for column in ("app", "status", "started", "duration"):
        table.add_column(column)
    for item in items:
        table.add_row(
            escape(item["id"]),
            escape(item.get("app") or ""),
            status_text(item["status"]),
            escape(item.get("started_at") or ""),
            duration(item.get("started_at"), item.get("ended_at")),
        )
    return table


def task_runs_table(execution: dict[str, Any]) -> Table:
    title = f"Execution {escape(execution['id'])} — {escape(execution['status'])}"
    if execution.get("revision"):
        title += f" (revision {escape(execution['revision'])})"
    table = Table(title=title, title_justify="left")
    table.add_column("#", no_wrap=True)
    # A retry may have moved the execution to a newer revision: say which task ran where.
    moved = len({run.get("revision") for run in execution["tasks"]}) > 1
    columns = ("task", "status", "attempt", *(("revision",) if moved else ()), "duration")
    for column in (*columns, "output / error"):
        table.add_column(column, overflow="fold")
    for number, run in enumerate(execution["tasks"], start=1):
        error = run.get("error")
        shown = (error.get("title") or error.get("type")) if error else short(run.get("output"))
        where = (escape(run.get("revision") or "-"),) if moved else ()
        table.add_row(
            str(number),
            escape(run["reference"]),
            status_text(run["status"]),
            str(run["attempt"]),
            *where,
            duration(run.get("started_at"), run.get("ended_at")),
            escape(str(shown)),
        )
    return table


def _widest(values: Any) -> int:
    return max((len(value) for value in values), default=2)
