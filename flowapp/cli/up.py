"""``flowapp up`` (the platform on one machine) and ``flowapp dev`` (one project, live)."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from flowapp.cli.banner import banner
from flowapp.cli.banner import say as _say
from flowapp.cli.deciding import DeciderMemory, Deciders, DecisionTimeout
from flowapp.cli.egress import AllowEgressOption, EgressOption, egress_policy
from flowapp.cli.failures import EnvironmentProblem, InvalidInput
from flowapp.cli.options import LogFormat, LogFormatOption
from flowapp.cli.sandboxing import (
    DEFAULT_UID_BASE,
    AllowRun,
    BwrapPath,
    OwnCodeSandbox,
    SandboxBind,
    SandboxLimits,
    SandboxMode,
    SandboxPassEnv,
    SandboxUidBase,
    allowed_runs,
    sandbox_settings,
)
from flowapp.cli.settings import flowapp_home
from flowapp.runtime.deciders.settings import (
    DEFAULT_DECISION_SECONDS,
    DEFAULT_MEMORY_MIB,
    DEFAULT_WORKERS,
)

if TYPE_CHECKING:
    from flowapp.cli.serve import Platform, UpSettings

SECRETS_FILE_HELP = (
    "YAML or JSON mapping app names to their secrets (repeatable). "
    "FLOWAPP_SECRETS_<APP> variables give an app's secrets as a JSON object too."
)


async def _deploy_folders(running: Platform, folders: list[Path]) -> list[str]:
    """Each ``--app`` folder seeds its app if there is none, and updates it only when the
    folder itself changed since it last did: pushes made since are kept."""
    import asyncio

    from flowapp.apps import load_app
    from flowapp.local.seeding import seed_from_folder

    names = []
    for folder in folders:
        app = await asyncio.to_thread(load_app, folder)
        _say(f"{app.name} from {folder} …")
        seeded = await seed_from_folder(
            running.platform, app.name, app.base_dir, progress=lambda m: _say(f"  {m}")
        )
        _say(f"  {app.name}: {seeded.message}")
        names.append(app.name)
    return names


async def _up(settings: UpSettings, listener: socket.socket) -> None:
    from flowapp.cli.serve import api_app, platform_running, serve_http

    async with platform_running(settings) as running:
        names = await _deploy_folders(running, settings.apps)
        banner(running, names)
        await serve_http(api_app(running), listener)


def _run_alone(settings: UpSettings, main: Callable[[UpSettings, socket.socket], Any]) -> None:
    """Run ``main`` holding the data directory (one server per data directory) on a
    socket bound to the port first; either taken says by whom, exit 3."""
    import asyncio

    from flowapp.local.instance import DataDirInUse, PortInUse, bind_listener, holding
    from flowapp.sandbox import SandboxUnavailable

    address = f"http://{settings.host}:{settings.port}"
    try:
        with holding(settings.data_dir, address=address):
            listener = bind_listener(settings.host, settings.port)
            with listener:
                asyncio.run(main(settings, listener))
    except SandboxUnavailable as exc:  # a sandbox that cannot run here
        raise EnvironmentProblem(str(exc)) from None
    except DataDirInUse as exc:
        raise EnvironmentProblem(
            str(exc), hint="stop it first, or start this one with another --data-dir"
        ) from None
    except PortInUse as exc:
        raise EnvironmentProblem(str(exc), hint="choose another with --port") from None


def up(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    data_dir: Annotated[
        Path | None, typer.Option(help="Where state lives (default ~/.flowapp/data).")
    ] = None,
    db: Annotated[
        str | None, typer.Option(help="postgresql://… instead of SQLite in the data dir.")
    ] = None,
    app: Annotated[list[Path], typer.Option(help="A project folder to deploy at start.")] = [],  # noqa: B006
    owner: Annotated[
        str, typer.Option(help="This engine's name (distinct per replica on PostgreSQL).")
    ] = "local",
    lifecycle_events: Annotated[
        bool, typer.Option(help="Publish lifecycle events to the bus.")
    ] = False,
    environment: Annotated[
        str | None,
        typer.Option("--env", "-e", help="Deploy every app with its config/ENV.yaml, if any."),
    ] = None,
    secrets_file: Annotated[list[Path], typer.Option(help=SECRETS_FILE_HELP)] = [],  # noqa: B006
    egress: EgressOption = "enforce",
    allow_egress: AllowEgressOption = [],  # noqa: B006
    sandbox: SandboxMode = "auto",
    allow_run: AllowRun = "",
    sandbox_limits: SandboxLimits = "",
    sandbox_bind: SandboxBind = [],  # noqa: B006
    sandbox_pass_env: SandboxPassEnv = [],  # noqa: B006
    sandbox_uid_base: SandboxUidBase = DEFAULT_UID_BASE,
    bwrap: BwrapPath = "/usr/bin/bwrap",
    deciders: Deciders = DEFAULT_WORKERS,
    decision_timeout: DecisionTimeout = DEFAULT_DECISION_SECONDS,
    decider_memory: DeciderMemory = DEFAULT_MEMORY_MIB,
    log_format: LogFormatOption = LogFormat.text,
    retention: Annotated[
        str,
        typer.Option(
            help="Keep finished executions this long, then delete them with their task "
            "runs (30d, 12h, 2w, P30D …; `forever` keeps them all); an app's "
            "spec.retention overrides it.",
        ),
    ] = "30d",
) -> None:
    """Start the platform: API, engine, event bus, triggers and functions.

    Functions, their dependency builds and run: shell/script processes are sandboxed:
    bubblewrap, a user of their own per app, only the environment their app declares, no
    access to the data directory, resource limits. run: shell, script and container are
    off unless --allow-run (every app) or `flowapp allow-run APP KINDS` (one app, by an
    admin).
    """
    from flowapp.cli.logsetup import configure_logging
    from flowapp.cli.serve import UpSettings
    from flowapp.local.datadir import PRIVATE_UMASK

    configure_logging(logging.WARNING, log_format.value)
    policy = egress_policy(egress, allow_egress)
    file_secrets, environment_secrets = _given_secrets(secrets_file)
    # Before anything is created: every file of the data directory is the server's alone.
    os.umask(PRIVATE_UMASK)
    settings = UpSettings(
        data_dir=(data_dir or flowapp_home() / "data").resolve(),
        host=host,
        port=port,
        db=db,
        owner=owner,
        lifecycle_events=lifecycle_events,
        apps=app,
        environment=environment,
        file_secrets=file_secrets,
        environment_secrets=environment_secrets,
        egress=policy,
        sandbox=sandbox_settings(
            sandbox,
            bwrap=bwrap,
            limits=sandbox_limits,
            binds=sandbox_bind,
            pass_env=sandbox_pass_env,
            uid_base=sandbox_uid_base,
        ),
        allow_run=allowed_runs(allow_run),
        deciders=deciders,
        decision_seconds=decision_timeout,
        decider_memory_mib=decider_memory,
        retention=_retention(retention),
    )
    _run_alone(settings, _up)


def _retention(text: str) -> float | None:
    """``--retention`` in seconds; None for ``forever``."""
    if text.strip().lower() == "forever":
        return None
    from flowapp.store.retention import parse_retention

    try:
        return parse_retention(text)
    except ValueError as exc:
        raise InvalidInput(f"--retention: {exc}") from None


def _given_secrets(
    files: list[Path],
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Secrets from the files, then from the environment (whose variables are taken out
    of it, so that no process started later inherits them). Exit 2 on a bad one."""
    from flowapp.runtime.secrets import (
        SuppliedSecretsError,
        read_secrets_file,
        take_environment_secrets,
    )

    merged: dict[str, dict[str, Any]] = {}
    try:
        for path in files:
            for app_name, values in read_secrets_file(path).items():
                merged.setdefault(app_name, {}).update(values)
        return merged, take_environment_secrets(os.environ)
    except SuppliedSecretsError as error:
        raise InvalidInput(str(error)) from None


async def _dev(settings: UpSettings, folder: Path, listener: socket.socket) -> None:
    import asyncio

    from flowapp.apps import load_app
    from flowapp.cli.devloop import watch_project
    from flowapp.cli.serve import api_app, platform_running, serve_http

    async with platform_running(settings) as running:
        view = await running.platform.deploy_in_place(folder)
        name = (await asyncio.to_thread(load_app, folder)).name
        ready = asyncio.Event()
        watcher = asyncio.create_task(
            watch_project(running, folder, name, settings.environment, ready=ready)
        )
        # A watcher that fails before it is ready must say so, not leave dev waiting.
        await asyncio.wait(
            [watcher, asyncio.ensure_future(ready.wait())], return_when=asyncio.FIRST_COMPLETED
        )
        if watcher.done():
            watcher.result()
        _say(f"{name}: {view.message}; watching {folder} for changes")
        banner(running, [name])
        try:
            await serve_http(api_app(running), listener)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher


def dev(
    folder: Annotated[Path, typer.Argument(help="The project folder.")] = Path("."),
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    environment: Annotated[
        str, typer.Option("--env", "-e", help="Merge config/ENV.yaml into the spec, if any.")
    ] = "dev",
    secrets_file: Annotated[list[Path], typer.Option(help=SECRETS_FILE_HELP)] = [],  # noqa: B006
    egress: EgressOption = "open",
    allow_egress: AllowEgressOption = [],  # noqa: B006
    sandbox: OwnCodeSandbox = False,
    log_format: LogFormatOption = LogFormat.text,
) -> None:
    """Run a project locally, reloaded when its code or YAML changes.

    Its functions, the engine on SQLite in FOLDER/.flowapp, its triggers, and the API.
    run: shell, script and container are allowed.
    """
    from flowapp.cli.logsetup import configure_logging
    from flowapp.cli.serve import UpSettings

    configure_logging(logging.INFO, log_format.value)
    folder = folder.resolve()
    policy = egress_policy(egress, allow_egress)
    file_secrets, environment_secrets = _given_secrets(secrets_file)
    settings = UpSettings(
        data_dir=folder / ".flowapp",
        host=host,
        port=port,
        environment=environment,
        file_secrets=file_secrets,
        environment_secrets=environment_secrets,
        egress=policy,
        sandbox=sandbox_settings("auto" if sandbox else "off"),
        allow_run=allowed_runs("shell,script,container"),
        own_code=True,
        deciders=0,
    )
    _run_alone(settings, lambda settings, listener: _dev(settings, folder, listener))


def register(app: typer.Typer, *, panel: str) -> None:
    app.command(rich_help_panel=panel)(up)
    app.command(rich_help_panel=panel)(dev)
