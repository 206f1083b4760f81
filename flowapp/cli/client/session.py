"""``flowapp login URL --token TOKEN``: check the token against the server, then save both.

The check (``GET /api/v1/whoami``) happens first, so a typo in the URL or a revoked
token is reported now rather than at the next command; nothing is saved on failure.
"""

from __future__ import annotations

from typing import Annotated

import typer


def login(
    url: Annotated[str, typer.Argument(help="The server, e.g. http://127.0.0.1:8080.")],
    token: Annotated[
        str, typer.Option("--token", envvar="FLOWAPP_TOKEN", help="An API token (fa_...).")
    ],
) -> None:
    """Log in to a flowapp server: later commands use it without --url."""
    from flowapp.cli.client.api import Api
    from flowapp.cli.client.config import Login, normalize_url, save_login
    from flowapp.cli.output import note

    server = Login(normalize_url(url), token)
    api = Api(server)
    try:
        me = api.json("GET", "/api/v1/whoami")
    finally:
        api.close()
    path = save_login(server)
    note(f"Logged in to {server.url} as {me['name']} ({me['role']}); saved in {path}")
