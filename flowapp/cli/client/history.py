"""``flowapp executions`` and ``flowapp execution ID`` against a server, and the merged
commands that pick local or remote.

Remote mode reads ``GET /api/v1/executions`` and ``GET /api/v1/executions/{id}``, whose
JSON has the shape the local commands print (``flowapp.cli.render``), so ``--json``
output is the same either way. The merged commands (``executions_any``,
``execution_any``) read a local database when ``--db`` is given, a server when ``--url``
is given or a login is saved, and the default local database otherwise.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from flowapp.cli import history as local
from flowapp.cli.client.api import connect
from flowapp.cli.client.config import remote_configured
from flowapp.cli.client.options import JsonOption, TokenOption, UrlOption
from flowapp.cli.client.output import (
    duration,
    handled,
    print_json,
    short,
    status_text,
    stdout,
)

IdArgument = Annotated[str, typer.Argument(help="The execution's id.")]
DbOption = Annotated[str | None, typer.Option(help="Read this local store instead.")]
StatusOption = Annotated[str | None, typer.Option(help="Only executions with this status.")]
AppOption = Annotated[str | None, typer.Option("--app", help="Only this app's executions.")]
LimitOption = Annotated[int, typer.Option(min=1, max=1000, help="How many, newest first.")]


def remote_executions(
    app_name: AppOption = None,
    status: StatusOption = None,
    limit: LimitOption = 20,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """List a server's executions, newest first."""
    params = {k: v for k, v in {"app": app_name, "status": status}.items() if v is not None}
    with handled(), connect(url, token) as api:
        page = api.request("GET", "/api/v1/executions", params={**params, "limit": limit})
        items = page.json()["items"]
        if as_json:
            print_json(items)
        else:
            stdout().print(executions_table(items))


def remote_execution(
    execution_id: IdArgument,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one of a server's executions and its task runs in the order they ran."""
    with handled(), connect(url, token) as api:
        found = api.request("GET", f"/api/v1/executions/{execution_id}").json()
        if as_json:
            print_json(found)
        else:
            stdout().print(task_runs_table(found))


def executions_any(
    app_name: AppOption = None,
    status: StatusOption = None,
    limit: LimitOption = 20,
    db: DbOption = None,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """List executions, newest first (of a server when logged in or --url, else local)."""
    if db is None and remote_configured(url):
        remote_executions(app_name, status, limit, url, token, as_json)
    else:
        local.executions(db=db, status=status, app_name=app_name, limit=limit, as_json=as_json)


def execution_any(
    execution_id: IdArgument,
    db: DbOption = None,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one execution and its task runs (of a server when logged in or --url)."""
    if db is None and remote_configured(url):
        remote_execution(execution_id, url, token, as_json)
    else:
        local.execution(execution_id, db=db, as_json=as_json)


def executions_table(items: list[dict[str, Any]]) -> Table:
    table = Table(title="Executions")
    for column in ("id", "app", "status", "started", "duration"):
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
    table = Table(title=f"Execution {escape(execution['id'])} — {escape(execution['status'])}")
    for column in ("#", "task", "status", "attempt", "duration", "output / error"):
        table.add_column(column, overflow="fold")
    for number, run in enumerate(execution["tasks"], start=1):
        error = run.get("error")
        shown = (error.get("title") or error.get("type")) if error else short(run.get("output"))
        table.add_row(
            str(number),
            escape(run["reference"]),
            status_text(run["status"]),
            str(run["attempt"]),
            duration(run.get("started_at"), run.get("ended_at")),
            escape(str(shown)),
        )
    return table
