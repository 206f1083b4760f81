"""How commands speak: JSON on stdout for scripts, tables for people, notes on stderr.

Errors are not printed here: commands raise, and ``flowapp.cli.main`` reports them
(``flowapp.cli.failures``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:  # rich is loaded by what draws for people, not by JSON and notes
    from rich.console import Console

STATUS_STYLE = {
    "completed": "green",
    "succeeded": "green",
    "faulted": "red",
    "failed": "red",
    "cancelled": "yellow",
    "skipped": "dim",
    "running": "cyan",
    "waiting": "blue",
    "suspended": "magenta",
}


def stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def stdout() -> Console:
    from rich.console import Console

    return Console(highlight=False)


def note(message: str) -> None:
    """A line for the person at the terminal, on stderr (stdout stays parseable)."""
    typer.echo(message, err=True)


def dumps(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def print_json(value: Any) -> None:
    typer.echo(dumps(value))


def show(value: Any, *, as_json: bool, view: Callable[[Any], Any]) -> None:
    """``value`` as JSON (``--json``), else what ``view`` makes of it (a table ...)."""
    if as_json:
        print_json(value)
    else:
        stdout().print(view(value))


def status_text(status: str | None) -> str:
    from rich.markup import escape

    style = STATUS_STYLE.get(status or "", "white")
    return f"[{style}]{escape(status or '')}[/{style}]"


def duration(start: str | None, end: str | None) -> str:
    if not start or not end:
        return ""
    seconds = (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    return f"{seconds * 1000:.1f} ms"


def short(value: Any, width: int = 48) -> str:
    if value is None:
        return ""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= width else text[: width - 1] + "…"
