"""``flowapp logs APP [FUNCTION] [--execution ID]``: what an app's functions printed."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from flowapp.cli.client.api import connect
from flowapp.cli.client.options import JsonOption, TokenOption, UrlOption
from flowapp.cli.client.output import handled, print_json, stdout


def logs(
    app_name: Annotated[str, typer.Argument(metavar="APP", help="The app.")],
    function: Annotated[str | None, typer.Argument(help="Only this function's lines.")] = None,
    execution: Annotated[
        str | None, typer.Option("--execution", help="Only lines of this execution.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="The last this many.")] = 200,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the logs of an app's functions, oldest first."""
    params: dict[str, str | int] = {"limit": limit}
    if function:
        params["function"] = function
    if execution:
        params["execution"] = execution
    with handled(), connect(url, token) as api:
        items = api.request("GET", f"/api/v1/apps/{app_name}/logs", params=params).json()["items"]
        if as_json:
            print_json(items)
            return
        console = stdout()
        for line in items:
            where = f"{line['function']}[{line['instance']}]"
            text = f"{line['time']} {where} {line['message']}"
            style = "red" if line["stream"] == "stderr" else "default"
            console.print(f"[{style}]{escape(text)}[/{style}]")
