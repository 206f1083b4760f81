"""The ``flowapp`` console command: thin commands over the packages below it."""

from __future__ import annotations

import sys

import typer

from flowapp.cli import client, control, engine, k8s, running, scaffold, up

app = typer.Typer(
    name="flowapp",
    help="A low-code serverless workflow platform for Serverless Workflow 1.0.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
running.register(app)
client.register(app, history=True)
control.register(app)
engine.register(app)
k8s.register(app)
scaffold.register(app)
up.register(app)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
