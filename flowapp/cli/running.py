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

from flowapp.apps import FlowApp, load_app
from flowapp.apps.environments import config_file
from flowapp.cli.inputs import read_events, read_json_argument, read_secrets
from flowapp.cli.render import dumps
from flowapp.cli.settings import default_db
from flowapp.dsl.problems import DefinitionError, Problem
from flowapp.dsl.validate import load_source
from flowapp.engine.scope import Environment
from flowapp.functions.supervisor import Supervisor
from flowapp.runtime.dispatch import Effects
from flowapp.runtime.effects.functions import FunctionEffects
from flowapp.runtime.embedded import run_to_completion
from flowapp.runtime.registry import WorkflowRegistry
from flowapp.store import open_store

EXIT_FAULTED = 1
EXIT_INVALID = 2


def fail_invalid(error: DefinitionError) -> None:
    for problem in error.problems:
        typer.echo(str(problem), err=True)
    raise typer.Exit(EXIT_INVALID)


ENVIRONMENT_HELP = "Merge config/ENV.yaml into the FlowApp's spec."


def load_in_environment(file: Path, environment: str | None) -> FlowApp:
    """``load_app``, where an environment asked for by name must have its config file."""
    app = load_app(file, environment)
    if environment is not None and app.environment is None:
        expected = config_file(app.base_dir, environment)
        message = f"environment `{environment}` has no config file here"
        if expected.is_file():  # beside a plain workflow, which has no spec to configure
            message = "a plain workflow has no environments: `--env` is for FlowApp projects"
        raise DefinitionError([Problem("", message, str(expected))])
    return app


def validate(
    file: Annotated[Path, typer.Argument(help="A workflow, a flowapp.yaml, or a project folder.")],
    environment: Annotated[str | None, typer.Option("--env", "-e", help=ENVIRONMENT_HELP)] = None,
) -> None:
    """Check a workflow or FlowApp; print every problem with file:line:column and pointer."""
    try:
        app = load_in_environment(file, environment)
    except DefinitionError as error:
        fail_invalid(error)
        return
    what = f"FlowApp {app.name}" if app.functions or app.triggers else "workflow"
    typer.echo(f"{file}: valid {what}")


def run(
    file: Annotated[Path, typer.Argument(help="A workflow, a flowapp.yaml, or a project folder.")],
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
    environment: Annotated[str | None, typer.Option("--env", "-e", help=ENVIRONMENT_HELP)] = None,
) -> None:
    """Run a workflow (or a FlowApp's, with its functions) and print its output as JSON."""
    try:
        app = load_in_environment(file, environment)
        extra = [load_source(path).data for path in workflows]
        value = read_json_argument(input, option="--input")
        env = Environment(secrets=read_secrets(secret))
        events = read_events(event)
    except DefinitionError as error:
        fail_invalid(error)
        return
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    outcome = asyncio.run(_run(app, extra, value, db, env, events, timeout))
    if outcome.status == "completed":
        typer.echo(dumps(outcome.output))
        return
    typer.echo(dumps(outcome.error or {"status": outcome.status}))
    raise typer.Exit(EXIT_FAULTED)


async def _run(
    app: FlowApp,
    extra: list[dict[str, Any]],
    value: Any,
    db: str | None,
    env: Environment,
    events: list[dict[str, Any]],
    timeout: float | None,
) -> Any:
    store = open_store(db or default_db())
    supervisor = Supervisor(app.functions.values(), app=app.name) if app.functions else None
    try:
        store.migrate()
        registry = WorkflowRegistry(store)
        for other in extra:
            registry.add(other)
        functions = frozenset(app.functions)
        workflow = registry.add(
            app.workflow,
            app_functions=functions,
            app=app.name if functions else None,
            limits=app.limits,
        )
        effects = Effects()
        if supervisor is not None:
            await supervisor.start()
            effects = Effects(functions=FunctionEffects(supervisor, app=app.name))
        _, outcome = await run_to_completion(
            store,
            registry,
            workflow,
            value,
            effects=effects,
            env=env,
            events=events,
            timeout=timeout,
        )
        return outcome
    finally:
        if supervisor is not None:
            await supervisor.stop()
        store.close()


def register(app: typer.Typer) -> None:
    app.command()(validate)
    app.command()(run)
