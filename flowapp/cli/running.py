"""``flowapp validate`` and ``flowapp run``: the contract other parts rely on.

``run`` prints the workflow output as JSON and exits 0; on a fault it prints the RFC 7807
error as JSON and exits 1; an invalid definition or input is reported with its location
on stderr with exit code 2.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from flowapp.cli.inputs import read_events, read_json_argument, read_secrets
from flowapp.cli.render import dumps
from flowapp.cli.settings import default_db
from flowapp.dsl.problems import DefinitionError
from flowapp.dsl.source import read_source
from flowapp.dsl.validate import load_source, validate_source
from flowapp.engine.scope import Environment
from flowapp.runtime.embedded import run_to_completion
from flowapp.runtime.registry import WorkflowRegistry
from flowapp.store import open_store

EXIT_FAULTED = 1
EXIT_INVALID = 2


def fail_invalid(error: DefinitionError) -> None:
    for problem in error.problems:
        typer.echo(str(problem), err=True)
    raise typer.Exit(EXIT_INVALID)


def validate(
    file: Annotated[Path, typer.Argument(help="A workflow document (YAML or JSON).")],
) -> None:
    """Check a workflow document; print every problem with file:line:column and pointer."""
    try:
        problems = validate_source(read_source(file))
    except DefinitionError as error:
        fail_invalid(error)
        return
    if problems:
        fail_invalid(DefinitionError(problems))
    typer.echo(f"{file}: valid")


def run(
    file: Annotated[Path, typer.Argument(help="A workflow document (YAML or JSON).")],
    input: Annotated[
        str, typer.Option("--input", "-i", help="JSON input, or @file.json.")
    ] = "null",
    db: Annotated[str | None, typer.Option(help="Store URL (sqlite:///…, postgresql://…).")] = None,
    secret: Annotated[list[str], typer.Option(help="NAME=VALUE or @secrets.json.")] = [],  # noqa: B006
    event: Annotated[
        list[str], typer.Option(help="A CloudEvent (JSON or @file) to offer to `listen` tasks.")
    ] = [],  # noqa: B006
    workflows: Annotated[
        list[Path], typer.Option(help="More workflow files for `run: workflow`.")
    ] = [],  # noqa: B006
    timeout: Annotated[float | None, typer.Option(help="Give up after this many seconds.")] = None,
) -> None:
    """Run a workflow to completion and print its output (or its error) as JSON."""
    try:
        document = load_source(file)
        extra = [load_source(path) for path in workflows]
        value = read_json_argument(input, option="--input")
        env = Environment(secrets=read_secrets(secret))
        events = read_events(event)
    except DefinitionError as error:
        fail_invalid(error)
        return
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    outcome = asyncio.run(
        _run(document.data, [d.data for d in extra], value, db, env, events, timeout)
    )
    if outcome.status == "completed":
        typer.echo(dumps(outcome.output))
        return
    typer.echo(dumps(outcome.error or {"status": outcome.status}))
    raise typer.Exit(EXIT_FAULTED)


async def _run(
    document: dict[str, Any],
    extra: list[dict[str, Any]],
    value: Any,
    db: str | None,
    env: Environment,
    events: list[dict[str, Any]],
    timeout: float | None,
) -> Any:
    store = open_store(db or default_db())
    try:
        store.migrate()
        registry = WorkflowRegistry(store)
        for other in extra:
            registry.add(other)
        workflow = registry.add(document)
        _, outcome = await run_to_completion(
            store, registry, workflow, value, env=env, events=events, timeout=timeout
        )
        return outcome
    finally:
        store.close()


def register(app: typer.Typer) -> None:
    app.command()(validate)
    app.command()(run)
