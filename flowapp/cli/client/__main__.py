"""``python -m flowapp.cli.client``: the client commands on their own (with the merged
``executions``/``execution``), until ``flowapp.cli.main`` registers them."""

from __future__ import annotations

import typer

from flowapp.cli.client import register

app = typer.Typer(
    name="flowapp",
    help="Talk to a flowapp server.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
register(app, history=True)

if __name__ == "__main__":
    app()
