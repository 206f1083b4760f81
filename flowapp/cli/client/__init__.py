"""The CLI commands that talk to a flowapp server over its HTTP API.

``register(app)`` adds ``login``, ``apps``, ``deploy``, ``invoke``, ``logs``,
``token create`` and ``secret set | list | delete``; with ``history=True`` also
``executions`` and ``execution`` in their merged form (a server when logged in or given
``--url``, a local database with ``--db``), which then replace ``flowapp.cli.history``'s
commands of the same names.

Modules: ``config`` (where the server and token come from), ``api`` (the httpx client and
its errors), ``output`` (JSON, tables, problems on stderr, exit codes), one module per
command. ``python -m flowapp.cli.client`` runs these commands alone.
"""

from __future__ import annotations

import typer

from flowapp.cli.client.apps import apps
from flowapp.cli.client.deploy import deploy
from flowapp.cli.client.history import (
    execution_any,
    executions_any,
    remote_execution,
    remote_executions,
)
from flowapp.cli.client.invoke import invoke
from flowapp.cli.client.logs import logs
from flowapp.cli.client.secrets import secret_app
from flowapp.cli.client.session import login
from flowapp.cli.client.tokens import token_app

__all__ = ["register", "remote_execution", "remote_executions"]


def register(app: typer.Typer, *, history: bool = False) -> None:
    app.command()(login)
    app.command()(apps)
    app.command()(deploy)
    app.command()(invoke)
    app.command()(logs)
    app.add_typer(token_app, name="token")
    app.add_typer(secret_app, name="secret")
    if history:
        app.command("executions")(executions_any)
        app.command("execution")(execution_any)
