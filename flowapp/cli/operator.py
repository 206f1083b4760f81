"""``flowapp operator``: run the FlowApp operator (kopf) against the cluster it finds.

Credentials come from the pod's service account, else the kubeconfig; ``--server`` points
at an API server that needs none (a local test server). Metrics and ``/healthz`` are served
on ``--metrics-port``.
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer


def operator(
    namespace: Annotated[
        list[str], typer.Option(help="Serve only these namespaces (default: all).")
    ] = [],  # noqa: B006
    all_namespaces: Annotated[bool, typer.Option(help="Serve every namespace.")] = True,
    metrics_port: Annotated[int, typer.Option(help="Port of /metrics and /healthz.")] = 9090,
    image_prefix: Annotated[str, typer.Option(help="Registry prefix of the engine image.")] = "",
    engine_image: Annotated[str | None, typer.Option(help="The engine's image.")] = None,
    engine_replicas: Annotated[int, typer.Option(min=1, help="Engine replicas per app.")] = 2,
    database_secret: Annotated[
        str, typer.Option(help="Secret (in each app's namespace) with key `url`.")
    ] = "flowapp-database",
    broker: Annotated[str | None, typer.Option(help="A shared Broker for every app.")] = None,
    resync: Annotated[float, typer.Option(help="Seconds between full reconciles.")] = 300.0,
    server: Annotated[
        str | None, typer.Option(help="An API server URL that needs no credentials.")
    ] = None,
) -> None:
    """Run the operator that realises FlowApp objects on Kubernetes + Knative."""
    import asyncio

    from flowapp.operator.handlers import OperatorConfig, Running, run
    from flowapp.operator.target import Target

    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s"
    )
    target = Target(
        image_prefix=image_prefix,
        engine_image=engine_image,
        engine_replicas=engine_replicas,
        database_secret=database_secret,
        broker=broker,
    )
    config = OperatorConfig(target=target, server=server, resync=resync, metrics_port=metrics_port)
    namespaces = namespace if namespace or not all_namespaces else None
    asyncio.run(run(Running(config), namespaces=namespaces))


def register(app: typer.Typer, *, panel: str) -> None:
    app.command(rich_help_panel=panel)(operator)
