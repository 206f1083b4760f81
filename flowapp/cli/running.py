"""``flowapp validate`` and ``flowapp run``: the contract other parts rely on.

``run`` prints the workflow output as JSON and exits 0; on a fault it prints the RFC 7807
error as JSON and exits 1; an invalid definition or input is reported with its location
on stderr with exit code 2 (``flowapp.cli.failures``). The execution's id goes to
stderr, for ``flowapp execution ID``. A workflow that waits for events nobody will
offer (``listen`` without ``--event``) is cancelled, saying which task waits for what,
and exits 1 rather than waiting forever.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from flowapp.cli.egress import AllowEgressOption, EgressOption, egress_policy
from flowapp.cli.failures import EXIT_FAULTED
from flowapp.cli.options import DbOption
from flowapp.cli.sandboxing import OwnCodeSandbox

if TYPE_CHECKING:
    from flowapp.apps import FlowApp
    from flowapp.engine.scope import Environment
    from flowapp.runtime.egress import EgressPolicy
    from flowapp.sandbox import Sandbox

ENVIRONMENT_HELP = "Merge config/ENV.yaml into the FlowApp's spec."
FileArgument = Annotated[
    Path, typer.Argument(help="A workflow, a flowapp.yaml, or a project folder.")
]
EnvironmentOption = Annotated[str | None, typer.Option("--env", "-e", help=ENVIRONMENT_HELP)]


def load_in_environment(file: Path, environment: str | None) -> FlowApp:
    """``load_app``, where an environment asked for by name must have its config file."""
    from flowapp.apps import load_app
    from flowapp.apps.environments import config_file
    from flowapp.dsl.problems import DefinitionError, Problem

    app = load_app(file, environment)
    if environment is not None and app.environment is None:
        expected = config_file(app.base_dir, environment)
        message = f"environment `{environment}` has no config file here"
        if expected.is_file():  # beside a plain workflow, which has no spec to configure
            message = "a plain workflow has no environments: `--env` is for FlowApp projects"
        raise DefinitionError([Problem("", message, str(expected))])
    return app


def validate(file: FileArgument, environment: EnvironmentOption = None) -> None:
    """Check a workflow or FlowApp; print every problem with file:line:column and pointer."""
    app = load_in_environment(file, environment)
    what = f"FlowApp {app.name}" if app.functions or app.triggers else "workflow"
    typer.echo(f"{file}: valid {what}")


def run(
    file: FileArgument,
    input: Annotated[
        str, typer.Option("--input", "-i", help="JSON input, or @file.json.")
    ] = "null",
    db: DbOption = None,
    secret: Annotated[list[str], typer.Option(help="NAME=VALUE or @secrets.json.")] = [],  # noqa: B006
    event: Annotated[
        list[str], typer.Option(help="A CloudEvent (JSON or @file) to offer to `listen` tasks.")
    ] = [],  # noqa: B006
    workflows: Annotated[
        list[Path], typer.Option(help="More workflow files for `run: workflow`.")
    ] = [],  # noqa: B006
    timeout: Annotated[float | None, typer.Option(help="Give up after this many seconds.")] = None,
    environment: EnvironmentOption = None,
    egress: EgressOption = "open",
    allow_egress: AllowEgressOption = [],  # noqa: B006
    sandbox: OwnCodeSandbox = False,
) -> None:
    """Run a workflow (or a FlowApp's, with its functions) and print its output as JSON."""
    from flowapp.cli.inputs import read_events, read_json_argument, read_secrets
    from flowapp.cli.localdb.store import checked_url, choose_store
    from flowapp.dsl.validate import load_source
    from flowapp.engine.scope import Environment

    local_run = LocalRun(
        app=load_in_environment(file, environment),
        workflows=[load_source(path).data for path in workflows],
        input=read_json_argument(input, option="--input"),
        store_url=checked_url(choose_store(db)),
        env=Environment(secrets=read_secrets(secret)),
        events=read_events(event),
        timeout=timeout,
        policy=egress_policy(egress, allow_egress),
        sandbox=_open_sandbox(sandbox),
    )
    _report(_run_here(local_run))


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalRun:
    """One ``flowapp run``: the app with the other workflows it may start, its input,
    secrets and events, and where and how it runs."""

    app: FlowApp
    workflows: list[dict[str, Any]]
    input: Any
    store_url: str
    env: Environment
    events: list[dict[str, Any]]
    timeout: float | None
    policy: EgressPolicy
    sandbox: Sandbox


def _run_here(local_run: LocalRun) -> Any:
    import asyncio
    import logging
    import sys

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    return asyncio.run(_run(local_run))


def _report(outcome: Any) -> None:
    from flowapp.cli.output import note, print_json
    from flowapp.runtime.embedded import NO_MORE_EVENTS

    note(f"execution {outcome.id} {outcome.status}")
    if outcome.status == "completed":
        print_json(outcome.output)
        return
    print_json(outcome.error or {"status": outcome.status})
    detail = str((outcome.error or {}).get("detail") or "")
    if detail.endswith(NO_MORE_EVENTS):
        note(f"{detail}: give them with --event JSON or --event @event.json")
    raise typer.Exit(EXIT_FAULTED)


async def _run(local_run: LocalRun) -> Any:
    from flowapp.runtime.dispatch import Effects
    from flowapp.runtime.effects.functions import FunctionEffects
    from flowapp.runtime.effects.http import HttpEffects
    from flowapp.runtime.effects.process import ProcessEffects
    from flowapp.runtime.embedded import run_to_completion
    from flowapp.runtime.registry import WorkflowRegistry
    from flowapp.store import open_store

    app, sandbox = local_run.app, local_run.sandbox
    store = open_store(local_run.store_url)
    supervisor = None
    if app.functions:  # the supervisor (and its metrics) only for a FlowApp's functions
        from flowapp.functions.supervisor import Supervisor

        supervisor = Supervisor(app.functions.values(), app=app.name, sandbox=sandbox)
    try:
        store.migrate()
        registry = WorkflowRegistry(store)
        for other in local_run.workflows:
            registry.add(other)
        functions = frozenset(app.functions)
        workflow = registry.add(
            app.workflow,
            app_functions=functions,
            app=app.name if functions else None,
            limits=app.limits,
        )
        processes = ProcessEffects(sandbox=sandbox)
        effects = Effects(http=HttpEffects(policy=local_run.policy), processes=processes)
        if supervisor is not None:
            await supervisor.start()
            effects.functions = FunctionEffects(supervisor, app=app.name)
        _, outcome = await run_to_completion(
            store,
            registry,
            workflow,
            local_run.input,
            effects=effects,
            env=local_run.env,
            events=local_run.events,
            timeout=local_run.timeout,
        )
        return outcome
    finally:
        if supervisor is not None:
            await supervisor.stop()
        store.close()


def _open_sandbox(wanted: bool) -> Sandbox:
    """Off unless asked; asked, the strongest that works here (its warnings on stderr)."""
    from flowapp.cli.failures import EnvironmentProblem
    from flowapp.cli.output import note
    from flowapp.cli.settings import flowapp_home
    from flowapp.sandbox import Sandbox, SandboxSettings, SandboxUnavailable, open_sandbox

    if not wanted:
        return Sandbox("off")
    try:
        sandbox, warnings = open_sandbox(SandboxSettings(hidden=(flowapp_home(),)))
    except SandboxUnavailable as exc:
        raise EnvironmentProblem(str(exc)) from None
    for warning in warnings:
        note(f"warning: {warning}")
    return sandbox


def register(app: typer.Typer, *, panel: str) -> None:
    app.command(rich_help_panel=panel)(validate)
    app.command(rich_help_panel=panel)(run)
