"""``flowapp cluster-engine``: one engine replica of an app, as the FlowApp operator's
``<app>-engine`` Deployment runs it (``flowapp.cluster``).

Its settings come the way a pod gets them: the app from the ConfigMap's file
(``--app-file``), the database URL from a Secret (``FLOWAPP_DATABASE_URL``, kept off the
command line, where ``ps`` would show it), the replica's name from the pod
(``POD_NAME``), each function's Knative Service URL (``FLOWAPP_FUNCTION_URL_<NAME>``)
and the Broker's ingress (``FLOWAPP_BROKER_URL``) from the environment. The operator's
manifest and this command are held to the same options by
``tests/unit/cluster/test_manifest_runs.py``.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from flowapp.cli.deciding import DeciderMemory, Deciders, DecisionTimeout
from flowapp.cli.egress import AllowEgressOption, EgressOption, egress_policy
from flowapp.cli.failures import EnvironmentProblem, InvalidInput
from flowapp.cli.options import LogFormat, LogFormatOption, function_urls
from flowapp.runtime.deciders.settings import (
    DEFAULT_DECISION_SECONDS,
    DEFAULT_MEMORY_MIB,
    DEFAULT_WORKERS,
)

if TYPE_CHECKING:
    from flowapp.cluster.serve import ClusterSettings

DB_HELP = "The store: postgresql://… shared by the replicas (each app gets a schema)."


async def _run(settings: ClusterSettings, host: str, port: int, delivery_port: int) -> None:
    from flowapp.cli.banner import save_token, say
    from flowapp.cluster.serve import engine_running
    from flowapp.cluster.servers import serve

    async with engine_running(settings) as engine:
        if engine.admin_token is not None:
            where = settings.data_dir or Path.cwd()
            saved = save_token(where, engine.admin_token) if settings.data_dir else None
            say(f"admin token of {engine.app.name} (shown once; also saved to {saved}):")
            say(f"  {engine.admin_token}")
        await serve(
            engine,
            host=host,
            port=port,
            delivery_port=delivery_port,
            on_started=lambda: say(
                f"{engine.app.name}: API on {host}:{port}, deliveries on {host}:{delivery_port}"
            ),
        )


def cluster_engine(
    app_file: Annotated[
        Path, typer.Option(help="The FlowApp to serve (the operator's ConfigMap file).")
    ],
    db: Annotated[str, typer.Option(envvar="FLOWAPP_DATABASE_URL", help=DB_HELP)],
    owner: Annotated[
        str | None,
        typer.Option(envvar="POD_NAME", help="This replica's name (default: host:pid)."),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "0.0.0.0",
    port: Annotated[int, typer.Option(help="The API's port.")] = 8080,
    delivery_port: Annotated[
        int, typer.Option(help="The port Knative's Triggers deliver to (no tokens).")
    ] = 8081,
    broker_url: Annotated[
        str | None,
        typer.Option(envvar="FLOWAPP_BROKER_URL", help="The Broker's ingress, for `emit`."),
    ] = None,
    function: Annotated[
        list[str],
        typer.Option(help="NAME=URL of a function (default: $FLOWAPP_FUNCTION_URL_<NAME>)."),
    ] = [],  # noqa: B006
    knative_source: Annotated[
        list[str],
        typer.Option(help="A trigger Knative delivers (not run here); repeatable."),
    ] = [],  # noqa: B006
    traffic: Annotated[
        str | None,
        typer.Option(
            envvar="FLOWAPP_TRAFFIC",
            help="JSON: the split of executions between revisions, with their functions' URLs.",
        ),
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Scratch space: the admin token, cron state.")
    ] = None,
    lease: Annotated[float, typer.Option(help="Lease length in seconds.")] = 10.0,
    function_timeout: Annotated[
        float, typer.Option(help="Seconds a function call may take.")
    ] = 30.0,
    egress: EgressOption = "enforce",
    allow_egress: AllowEgressOption = [],  # noqa: B006
    deciders: Deciders = DEFAULT_WORKERS,
    decision_timeout: DecisionTimeout = DEFAULT_DECISION_SECONDS,
    decider_memory: DeciderMemory = DEFAULT_MEMORY_MIB,
    log_format: LogFormatOption = LogFormat.text,
) -> None:
    """Serve one app on a cluster: its API and engine, functions at their Knative
    Services, events through the Broker, replicas sharing PostgreSQL."""
    from flowapp.cli.localdb.store import StoreChoice, checked_url
    from flowapp.cli.logsetup import configure_logging
    from flowapp.cluster.app import SettingsError
    from flowapp.cluster.serve import ClusterSettings
    from flowapp.runtime.deciders.choice import DeciderSettings
    from flowapp.runtime.secrets import SuppliedSecretsError, take_environment_secrets

    configure_logging(logging.INFO, log_format.value)
    for number in (port, delivery_port):
        _check_port(host, number)
    try:
        secrets = take_environment_secrets(os.environ)
    except SuppliedSecretsError as error:
        raise InvalidInput(str(error)) from None
    settings = ClusterSettings(
        app_file=app_file,
        db=checked_url(StoreChoice(db, "--db")),
        owner=owner or f"{socket.gethostname()}:{os.getpid()}",
        environ=dict(os.environ),
        functions=function_urls(function),
        broker_url=broker_url or None,
        knative_sources=frozenset(knative_source),
        data_dir=data_dir,
        lease_seconds=lease,
        function_timeout=function_timeout,
        egress=egress_policy(egress, allow_egress),
        secrets=secrets,
        traffic=traffic or None,
        deciders=DeciderSettings(
            workers=deciders, decision_seconds=decision_timeout, memory_mib=decider_memory
        ),
    )
    try:
        import asyncio

        asyncio.run(_run(settings, host, port, delivery_port))
    except SettingsError as error:
        raise InvalidInput(str(error)) from None


def _check_port(host: str, port: int) -> None:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            raise EnvironmentProblem(f"port {port} on {host} is in use") from None


def register(app: typer.Typer, *, panel: str) -> None:
    app.command("cluster-engine", rich_help_panel=panel)(cluster_engine)
