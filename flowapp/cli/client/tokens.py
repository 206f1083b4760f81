"""``flowapp token create --name N --role R [--app A ...]``: a new API token, made by the
server; with ``--app``, limited to those apps (their API routes, executions and git
repositories).

Needs an admin token. The new token is printed alone on stdout (it is shown once and
never again), so ``TOKEN=$(flowapp token create ...)`` works; the rest goes to stderr.
"""

from __future__ import annotations

from typing import Annotated

import typer

from flowapp.cli.client.api import connect
from flowapp.cli.client.options import JsonOption, TokenOption, UrlOption
from flowapp.cli.client.output import handled, print_json, stderr

token_app = typer.Typer(help="API tokens (needs an admin token).", no_args_is_help=True)

ROLES = ("viewer", "developer", "admin")


@token_app.command("create")
def create_token(
    name: Annotated[str, typer.Option("--name", help="What the token is for.")],
    role: Annotated[str, typer.Option("--role", help="viewer, developer or admin.")] = "developer",
    app: Annotated[
        list[str], typer.Option("--app", help="Limit the token to this app (repeatable).")
    ] = [],  # noqa: B006
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an API token; it is printed once."""
    if role not in ROLES:
        typer.echo(f"Error: --role must be one of {', '.join(ROLES)}", err=True)
        raise typer.Exit(2)
    with handled(), connect(url, token) as api:
        body = {"name": name, "role": role, "apps": app}
        created = api.request("POST", "/api/v1/tokens", json=body).json()
    if as_json:
        print_json(created)
        return
    typer.echo(created["token"])
    limited = f", limited to {', '.join(created['apps'])}" if created.get("apps") else ""
    stderr().print(
        f"token {created['prefix']}… ({created['role']}{limited}) created; it is not shown again"
    )
