"""``flowapp token create | list | revoke``: the server's API tokens (needs an admin token).

``create --name N --role R [--app A ...]`` makes a token, limited to those apps with
``--app``. The new token is printed alone on stdout (it is shown once and never again),
so ``TOKEN=$(flowapp token create ...)`` works; the rest goes to stderr. ``list`` shows
every token without its secret; ``revoke ID`` stops one at once.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from flowapp.cli.options import JsonOption, TokenOption, UrlOption

token_app = typer.Typer(
    help="API tokens (needs an admin token).",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Role(StrEnum):
    viewer = "viewer"
    developer = "developer"
    admin = "admin"


@token_app.command("create")
def create_token(
    name: Annotated[str, typer.Option("--name", help="What the token is for.")],
    role: Annotated[Role, typer.Option("--role", help="What it may do.")] = Role.developer,
    app: Annotated[
        list[str], typer.Option("--app", help="Limit the token to this app (repeatable).")
    ] = [],  # noqa: B006
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an API token; it is printed once."""
    from flowapp.cli.client.api import ask
    from flowapp.cli.output import note, print_json

    body = {"name": name, "role": role.value, "apps": app}
    created = ask(url, token, "POST", "/api/v1/tokens", json=body)
    if as_json:
        print_json(created)
        return
    typer.echo(created["token"])
    limited = f", limited to {', '.join(created['apps'])}" if created.get("apps") else ""
    note(f"token {created['prefix']}… ({created['role']}{limited}) created; it is not shown again")


@token_app.command("list")
def list_tokens(
    url: UrlOption = None, token: TokenOption = None, as_json: JsonOption = False
) -> None:
    """List the tokens (never their secrets), revoked ones too."""
    from flowapp.cli.client.api import ask
    from flowapp.cli.output import show

    items = ask(url, token, "GET", "/api/v1/tokens")["items"]
    show(items, as_json=as_json, view=tokens_table)


@token_app.command("revoke")
def revoke_token(
    token_id: Annotated[int, typer.Argument(metavar="ID", min=1, help="As `token list` shows.")],
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Revoke a token: requests made with it are refused from now on."""
    from flowapp.cli.client.api import delete_path
    from flowapp.cli.output import note

    delete_path(url, token, f"/api/v1/tokens/{token_id}")
    note(f"token {token_id} revoked")


def tokens_table(items: list[dict[str, Any]]) -> Any:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="Tokens", title_justify="left")
    table.add_column("id", no_wrap=True)
    for column in ("name", "role", "apps", "prefix", "created", "last used", "revoked"):
        table.add_column(column)
    for item in items:
        table.add_row(
            str(item["id"]),
            escape(item["name"]),
            item["role"],
            escape(", ".join(item.get("apps") or []) or "all"),
            escape(item["prefix"]),
            item.get("created_at") or "",
            item.get("last_used_at") or "",
            item.get("revoked_at") or "",
        )
    return table
