"""``flowapp logs APP [FUNCTION] [--execution ID] [--follow]``: what an app's functions
printed.

One log line is one output line, however long: lines are never wrapped here (the
terminal wraps them; a pipe gets them whole). ``--json`` prints the lines as one JSON
array, or with ``--follow`` one JSON object a line (JSON Lines), since an array cannot
be printed before it ends. ``--follow`` asks again every second and
prints the lines that came after the last one printed, until Ctrl-C. The API has no
cursor for logs, so the last line printed is looked for in the newest lines: if more
than ``FOLLOW_WINDOW`` lines came in one second, the oldest of them are not shown.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from flowapp.cli.options import JsonOption, TokenOption, UrlOption

FOLLOW_WINDOW = 1000
FOLLOW_INTERVAL_SECONDS = 1.0

Line = dict[str, Any]


def logs(
    app_name: Annotated[str, typer.Argument(metavar="APP", help="The app.")],
    function: Annotated[str | None, typer.Argument(help="Only this function's lines.")] = None,
    execution: Annotated[
        str | None,
        typer.Option("--execution", help="Only lines of this execution (its id or a prefix)."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="The last this many.")] = 200,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines (Ctrl-C stops).")
    ] = False,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the logs of an app's functions, oldest first."""
    from flowapp.cli.client.api import connect
    from flowapp.cli.shortids import resolve_remote

    params: dict[str, str | int] = {"limit": limit}
    if function:
        params["function"] = function
    path = f"/api/v1/apps/{app_name}/logs"
    show = _json_line if as_json else _text_line()
    with connect(url, token) as api:
        if execution:
            params["execution"] = resolve_remote(api, execution)
        lines = api.json("GET", path, params=params)["items"]
        if as_json and not follow:
            from flowapp.cli.output import print_json

            print_json(lines)
            return
        for line in lines:
            show(line)
        if not follow:
            return
        params["limit"] = FOLLOW_WINDOW
        while True:
            time.sleep(FOLLOW_INTERVAL_SECONDS)
            newest = api.json("GET", path, params=params)["items"]
            for line in lines_after(lines[-1] if lines else None, newest):
                show(line)
            lines = newest or lines


def lines_after(last: Line | None, newest: list[Line]) -> list[Line]:
    """The lines of ``newest`` that come after ``last`` (all of them if it is not there)."""
    if last is None:
        return newest
    for index in range(len(newest) - 1, -1, -1):
        if newest[index] == last:
            return newest[index + 1 :]
    return newest


def _json_line(line: Line) -> None:
    import json

    typer.echo(json.dumps(line, ensure_ascii=False))


def _text_line() -> Any:
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False, soft_wrap=True)

    def show(line: Line) -> None:
        where = f"{line['function']}[{line['instance']}]"
        text = escape(f"{line['time']} {where} {line['message']}")
        console.print(f"[red]{text}[/red]" if line["stream"] == "stderr" else text)

    return show
