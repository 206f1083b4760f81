"""The CLI commands that talk to a flowapp server over its HTTP API.

``register(app)`` adds ``login``, ``apps``, ``deploy``, ``invoke``, ``logs``,
``allow-run``, ``token`` and ``secret``. ``flowapp.cli.history`` and
``flowapp.cli.control`` use the remote halves kept here (``history``, ``control``) when a
server is named.

Modules: ``config`` (where the server and token come from), ``api`` (the httpx client and
its errors), one module per command. Each imports httpx and rich only when its command
runs.
"""

from __future__ import annotations

import typer

from flowapp.cli.client.apps import apps
from flowapp.cli.client.deploy import deploy
from flowapp.cli.client.invoke import invoke
from flowapp.cli.client.logs import logs
from flowapp.cli.client.runpolicy import allow_run
from flowapp.cli.client.secrets import secret_app
from flowapp.cli.client.session import login
from flowapp.cli.client.tokens import token_app

__all__ = ["register"]


def register(app: typer.Typer, *, panel: str) -> None:
    for command in (login, apps, deploy, invoke, logs):
        app.command(rich_help_panel=panel)(command)
    app.command("allow-run", rich_help_panel=panel)(allow_run)
    app.add_typer(token_app, name="token", rich_help_panel=panel)
    app.add_typer(secret_app, name="secret", rich_help_panel=panel)
