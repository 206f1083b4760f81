"""How the CLI shows executions and task runs: rich tables for people, JSON for scripts."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table

from flowapp.server.views import execution_json, iso, task_run_json
from flowapp.store.port import ExecutionRecord, TaskRunRecord

# The JSON of executions and task runs is the API's (``flowapp.server.views``), so that
# `flowapp execution ID --json` prints what `GET /api/v1/executions/{id}` answers.
__all__ = [
    "dumps",
    "execution_json",
    "executions_table",
    "iso",
    "print_table",
    "task_run_json",
    "task_runs_table",
]

_STATUS_STYLE = {
    "completed": "green",
    "faulted": "red",
    "cancelled": "yellow",
    "running": "cyan",
    "waiting": "blue",
    "suspended": "magenta",
}


def dumps(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _short(value: Any, width: int = 48) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":")) if value is not None else ""
    return text if len(text) <= width else text[: width - 1] + "…"


def _duration(start: float | None, end: float | None) -> str:
    if start is None or end is None:
        return ""
    return f"{(end - start) * 1000:.1f} ms"


def _status(status: str) -> str:
    style = _STATUS_STYLE.get(status, "white")
    return f"[{style}]{status}[/{style}]"


def executions_table(records: list[ExecutionRecord]) -> Table:
    table = Table(title="Executions", show_lines=False)
    for column in ("id", "workflow", "status", "started", "duration"):
        table.add_column(column)
    for record in records:
        table.add_row(
            record.id,
            record.app or record.workflow_id,
            _status(record.status),
            iso(record.started_at) or "",
            _duration(record.started_at, record.ended_at),
        )
    return table


def task_runs_table(record: ExecutionRecord, runs: list[TaskRunRecord]) -> Table:
    table = Table(title=f"Execution {record.id} — {record.status}")
    for column in ("#", "task", "status", "attempt", "duration", "output / error"):
        table.add_column(column, overflow="fold")
    for run in runs:
        shown = run.error.get("title") or run.error.get("type") if run.error else _short(run.output)
        table.add_row(
            str(run.id),
            run.reference,
            _status(run.status),
            str(run.attempt),
            _duration(run.started_at, run.ended_at),
            str(shown),
        )
    return table


def print_table(table: Table) -> None:
    Console().print(table)
