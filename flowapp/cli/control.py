"""Controlling executions from the command line: cancel, suspend, resume, retry, rerun.

``cancel``, ``suspend`` and ``resume`` queue a signal in the store for whichever engine
process holds the execution. ``retry`` (from the task that failed) and ``rerun`` (from the
start, same input) run the execution here, to completion, like ``flowapp run``.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer

from flowapp.cli.render import dumps
from flowapp.cli.settings import default_db
from flowapp.engine.signals import Cancel, Resume, Signal, Suspend
from flowapp.runtime.runtime import Outcome, Runtime, UnknownExecution
from flowapp.store import open_store

DbOption = Annotated[str | None, typer.Option(help="Store URL.")]
IdArgument = Annotated[str, typer.Argument(help="The execution's id.")]


async def _with_runtime(db: str | None, action: Any) -> Any:
    store = open_store(db or default_db())
    store.migrate()
    runtime = Runtime(store, owner="cli")
    await runtime.start(recover=False)
    try:
        return await action(runtime)
    finally:
        await runtime.stop()
        store.close()


def _signal(db: str | None, execution_id: str, signal: Signal, verb: str) -> None:
    async def send(runtime: Runtime) -> None:
        await runtime.send(execution_id, signal)

    try:
        asyncio.run(_with_runtime(db, send))
    except UnknownExecution:
        typer.echo(f"no execution {execution_id}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{verb} requested for {execution_id}; the engine holding it applies it")


def _finish(outcome: Outcome) -> None:
    typer.echo(dumps(outcome.output if outcome.status == "completed" else outcome.error))
    if outcome.status != "completed":
        raise typer.Exit(1)


def cancel(execution_id: IdArgument, db: DbOption = None) -> None:
    """Cancel an execution: whatever it waits for is stopped."""
    _signal(db, execution_id, Cancel(), "cancellation")


def suspend(execution_id: IdArgument, db: DbOption = None) -> None:
    """Suspend an execution: results that arrive meanwhile wait for ``resume``."""
    _signal(db, execution_id, Suspend(), "suspension")


def resume(execution_id: IdArgument, db: DbOption = None) -> None:
    """Resume a suspended execution."""
    _signal(db, execution_id, Resume(), "resumption")


def retry(execution_id: IdArgument, db: DbOption = None) -> None:
    """Run a faulted execution again from the task that failed, keeping earlier outputs."""

    async def run(runtime: Runtime) -> Outcome:
        await runtime.retry(execution_id)
        return await runtime.wait_for(execution_id)

    try:
        _finish(asyncio.run(_with_runtime(db, run)))
    except (UnknownExecution, ValueError) as exc:
        typer.echo(str(exc) or f"no execution {execution_id}", err=True)
        raise typer.Exit(2) from None


def rerun(execution_id: IdArgument, db: DbOption = None) -> None:
    """Start a new execution of the same workflow with the same input."""

    async def run(runtime: Runtime) -> Outcome:
        new_id = await runtime.rerun(execution_id)
        typer.echo(f"re-run as {new_id}", err=True)
        return await runtime.wait_for(new_id)

    try:
        _finish(asyncio.run(_with_runtime(db, run)))
    except UnknownExecution:
        typer.echo(f"no execution {execution_id}", err=True)
        raise typer.Exit(2) from None


def register(app: typer.Typer) -> None:
    for command in (cancel, suspend, resume, retry, rerun):
        app.command()(command)
