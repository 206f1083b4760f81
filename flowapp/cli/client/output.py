"""How the client commands speak: JSON on stdout for scripts, tables for people, and
errors on stderr as the server's problem (title, detail, every location), never as a
traceback.

``handled()`` wraps a command's body: an ``ApiError`` or an unreachable server exits 1,
a local mistake (bad input, unreadable file, no login) exits 2.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from flowapp.cli.client.api import ApiError, Unreachable
from flowapp.cli.client.config import LocalProblem

STATUS_STYLE = {
    "completed": "green",
    "succeeded": "green",
    "faulted": "red",
    "failed": "red",
    "cancelled": "yellow",
    "running": "cyan",
    "waiting": "blue",
    "suspended": "magenta",
}


def stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def stdout() -> Console:
    return Console(highlight=False)


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


def problem_lines(problem: dict[str, Any]) -> list[str]:
    title = problem.get("title") or f"HTTP {problem.get('status')}"
    detail = problem.get("detail")
    lines = [f"Error: {title}" + (f": {detail}" if detail else "")]
    for where in problem.get("problems") or []:
        place = where.get("file", "")
        if where.get("line"):
            place += f":{where['line']}:{where.get('column', 0)}"
        lines.append(f"  {place}: {where.get('pointer') or '/'}: {where.get('message')}")
    return lines


def fail(message: str, code: int) -> typer.Exit:
    console = stderr()
    for line in message.splitlines():
        console.print(escape(line))
    return typer.Exit(code)


@contextmanager
def handled() -> Iterator[None]:
    try:
        yield
    except ApiError as error:
        raise fail("\n".join(problem_lines(error.problem)), 1) from None
    except Unreachable as error:
        raise fail(f"Error: {error}", 1) from None
    except LocalProblem as error:
        raise fail(f"Error: {error}", 2) from None
    except (ValueError, KeyError, TypeError) as error:  # an answer not shaped as expected
        raise fail(f"Error: unexpected answer from the server: {error!r}", 1) from None


def status_text(status: str | None) -> str:
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
