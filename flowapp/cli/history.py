"""``flowapp executions`` and ``flowapp execution ID``: what ran, task by task;
``flowapp executions purge``: delete old finished ones.

Listing and showing read a server when ``--url`` is given or a login is saved, and a
local store when ``--db`` is given or nothing names a server (``flowapp.cli.options``);
the table's title says which. Purging works on a store (``--db``, ``$FLOWAPP_DB`` or the
local one), a small transaction at a time, so a server using it goes on meanwhile.
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


executions_app = typer.Typer(
    name="executions", context_settings={"help_option_names": ["-h", "--help"]}
)


@executions_app.callback(invoke_without_command=True)
def executions(
    ctx: typer.Context,
    app_name: AppOption = None,
    status: StatusOption = None,
    limit: LimitOption = 20,
    db: DbOption = None,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """List executions, newest first (of a server when logged in or --url, else local);
    `purge` deletes old finished ones."""
    if ctx.invoked_subcommand is not None:
        return
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


@executions_app.command("purge")
def purge(
    older_than: Annotated[
        str,
        typer.Option(
            "--older-than",
            metavar="DURATION",
            help="Delete executions that ended longer ago than this: 30d, 12h, 2w, P30D …",
        ),
    ],
    app_name: Annotated[
        str | None, typer.Option("--app", help="Only this app's executions.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only say what would be deleted.")
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Delete finished executions that ended long enough ago, with their task runs.

    Never an unfinished execution, a finished one whose parent still runs, or one whose
    emitted events are not sent yet.
    """
    from flowapp.cli.localdb.history import purge_local

    purge_local(older_than, db=db, app_name=app_name, dry_run=dry_run, as_json=as_json)


def register(app: typer.Typer, *, panel: str) -> None:
    app.add_typer(executions_app, rich_help_panel=panel)
    app.command(rich_help_panel=panel)(execution)
