"""``flowapp invoke APP --input JSON|@file [--wait 30]``: start an execution on the server.

Exit codes follow ``flowapp run``: the output JSON on stdout and 0 when it completed in
time; the workflow error (RFC 7807) JSON on stdout and 1 when it faulted; the
execution's id on stdout and 0 when it is still running after ``--wait`` (``--wait 0``
does not wait). An input that is not JSON, or a file that cannot be read, exits 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from flowapp.cli.client.config import LocalProblem
from flowapp.cli.failures import EXIT_FAULTED
from flowapp.cli.options import TokenOption, UrlOption


def invoke(
    app_name: Annotated[str, typer.Argument(metavar="APP", help="The app to run.")],
    input_text: Annotated[
        str, typer.Option("--input", help="The input: JSON text, or @file holding it.")
    ] = "null",
    wait: Annotated[
        float, typer.Option(min=0, help="Seconds to wait for the outcome (0: don't).")
    ] = 30.0,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Start an execution of an app and print its outcome (or its id, if still running)."""
    import httpx

    from flowapp.cli.client.api import connect

    value = read_input(input_text)
    params = {"wait": f"{wait:g}"} if wait > 0 else {}
    timeout = httpx.Timeout(30.0 + wait)
    with connect(url, token, timeout=timeout) as api:
        path = f"/api/v1/apps/{app_name}/executions"
        response = api.request("POST", path, json=value, params=params, faults=True)
    report(response.status_code, response.json())


def read_input(text: str) -> Any:
    source = "--input"
    if text.startswith("@"):
        source = text[1:]
        try:
            text = Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise LocalProblem(f"cannot read {source}: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"{source}:{exc.lineno}:{exc.colno}"
        raise LocalProblem(f"{where}: the input is not JSON: {exc.msg}") from None


def report(status: int, answer: dict[str, Any]) -> None:
    from flowapp.cli.output import note, print_json

    if status == 200:
        print_json(answer.get("output"))
        return
    if status == 202:
        typer.echo(answer["id"])
        note(f"still {answer.get('status')}; see `flowapp execution {answer['id']}`")
        return
    print_json(answer.get("error"))
    raise typer.Exit(EXIT_FAULTED)
