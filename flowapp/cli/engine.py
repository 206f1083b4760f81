"""``flowapp engine``: one engine process of a scale-out deployment.

Several of them share one PostgreSQL database. Each claims submitted executions and those
of processes whose lease expired, advances what it holds, and renews its leases; killed,
its executions are taken over by the others once its lease runs out.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
from typing import Annotated

import typer

from flowapp.cli.options import LogFormat, LogFormatOption, function_urls


async def _serve(
    db: str, owner: str, urls: dict[str, str], lease: float, poll: float, timeout: float
) -> None:
    import asyncio

    from flowapp.functions.remote import RemoteFunctions
    from flowapp.runtime.dispatch import Effects
    from flowapp.runtime.effects.functions import FunctionEffects
    from flowapp.runtime.runtime import Runtime
    from flowapp.store import open_store

    store = open_store(db)
    store.migrate()
    remote = RemoteFunctions(urls, timeout=timeout)
    effects = Effects(functions=FunctionEffects(remote))
    from flowapp.cli.serve import open_tracing

    runtime = Runtime(
        store,
        effects=effects,
        owner=owner,
        lease_seconds=lease,
        poll_interval=poll,
        tracing=open_tracing(None),
    )
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    await runtime.start(recover=True, scale_out=True)
    logging.getLogger("flowapp").info("engine %s started", owner)
    try:
        await stopping.wait()
    finally:
        await runtime.stop()
        await remote.close()
        store.close()


def engine(
    db: Annotated[str | None, typer.Option(help="Store URL (PostgreSQL to scale out).")] = None,
    owner: Annotated[
        str | None, typer.Option(help="This process's name (default: host:pid).")
    ] = None,
    function: Annotated[list[str], typer.Option(help="NAME=URL of a function.")] = [],  # noqa: B006
    lease: Annotated[float, typer.Option(help="Lease length in seconds.")] = 10.0,
    poll: Annotated[float, typer.Option(help="Seconds between polls for new work.")] = 0.05,
    function_timeout: Annotated[
        float, typer.Option(help="Seconds a function call may take.")
    ] = 30.0,
    log_format: LogFormatOption = LogFormat.text,
) -> None:
    """Run an engine process until SIGTERM."""
    import asyncio

    from flowapp.cli.localdb.store import checked_url, choose_store
    from flowapp.cli.logsetup import configure_logging

    configure_logging(logging.INFO, log_format.value)
    name = owner or f"{socket.gethostname()}:{os.getpid()}"
    urls = function_urls(function)
    url = checked_url(choose_store(db))
    asyncio.run(_serve(url, name, urls, lease, poll, function_timeout))


def register(app: typer.Typer, *, panel: str) -> None:
    app.command(rich_help_panel=panel)(engine)
