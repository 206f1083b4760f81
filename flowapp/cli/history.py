"""``flowapp executions`` and ``flowapp execution ID``: what ran, task by task."""

from __future__ import annotations

from typing import Annotated

import typer

from flowapp.cli.render import (
    dumps,
    execution_json,
    executions_table,
    print_table,
    task_runs_table,
)
from flowapp.cli.settings import default_db
from flowapp.store import open_store
from flowapp.store.port import ExecutionFilter


def executions(
    db: Annotated[str | None, typer.Option(help="Store URL.")] = None,
    status: Annotated[str | None, typer.Option(help="Only executions with this status.")] = None,
    app_name: Annotated[
        str | None, typer.Option("--app", help="Only this app's executions.")
    ] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List executions, newest first."""
    store = open_store(db or default_db())
    try:
        store.migrate()
        page = store.list_executions(ExecutionFilter(app=app_name, status=status), limit=limit)
    finally:
        store.close()
    if as_json:
        typer.echo(dumps([execution_json(record) for record in page.items]))
    else:
        print_table(executions_table(page.items))


def execution(
    execution_id: Annotated[str, typer.Argument(help="The execution's id.")],
    db: Annotated[str | None, typer.Option(help="Store URL.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show one execution and its task runs in the order they ran."""
    store = open_store(db or default_db())
    try:
        store.migrate()
        record = store.get_execution(execution_id)
        runs = store.task_runs(execution_id) if record is not None else []
    finally:
        store.close()
    if record is None:
        typer.echo(f"no execution {execution_id}", err=True)
        raise typer.Exit(1)
    if as_json:
        typer.echo(dumps(execution_json(record, runs)))
    else:
        print_table(task_runs_table(record, runs))


def register(app: typer.Typer) -> None:
    app.command()(executions)
    app.command()(execution)
