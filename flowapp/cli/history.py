"""``flowapp executions`` and ``flowapp execution ID``: what ran, task by task.

Both read a server when ``--url`` is given or a login is saved, and a local store when
``--db`` is given or nothing names a server (``flowapp.cli.options``); the table's title
says which.
"""

from __future__ import annotations

from typing import Annotated

import typer

from flowapp.cli.options import (
    DbOption,
    IdArgument,
    JsonOption,
    TokenOption,
    UrlOption,
    uses_server,
)

StatusOption = Annotated[str | None, typer.Option(help="Only executions with this status.")]
AppOption = Annotated[str | None, typer.Option("--app", help="Only this app's executions.")]
LimitOption = Annotated[int, typer.Option(min=1, max=1000, help="How many, newest first.")]


def executions(
    app_name: AppOption = None,
    status: StatusOption = None,
    limit: LimitOption = 20,
    db: DbOption = None,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """List executions, newest first (of a server when logged in or --url, else local)."""
    if uses_server(db, url):
        from flowapp.cli.client.history import list_remote

        list_remote(
            app_name=app_name, status=status, limit=limit, url=url, token=token, as_json=as_json
        )
    else:
        from flowapp.cli.localdb.history import list_local

        list_local(db=db, app_name=app_name, status=status, limit=limit, as_json=as_json)


def execution(
    execution_id: IdArgument,
    db: DbOption = None,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one execution and its task runs in the order they ran."""
    if uses_server(db, url):
        from flowapp.cli.client.history import show_remote

        show_remote(execution_id, url=url, token=token, as_json=as_json)
    else:
        from flowapp.cli.localdb.history import show_local

        show_local(execution_id, db=db, as_json=as_json)


def register(app: typer.Typer, *, panel: str) -> None:
    app.command(rich_help_panel=panel)(executions)
    app.command(rich_help_panel=panel)(execution)
