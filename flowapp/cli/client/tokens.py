"""``flowapp token create --name N --role R``: a new API token, made by the server.

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
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an API token; it is printed once."""
    if role not in ROLES:
        typer.echo(f"Error: --role must be one of {', '.join(ROLES)}", err=True)
        raise typer.Exit(2)
    with handled(), connect(url, token) as api:
        created = api.request("POST", "/api/v1/tokens", json={"name": name, "role": role}).json()
    if as_json:
        print_json(created)
        return
    typer.echo(created["token"])
    stderr().print(f"token {created['prefix']}… ({created['role']}) created; it is not shown again")
