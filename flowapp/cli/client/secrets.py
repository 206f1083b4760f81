"""``flowapp secret set | list | delete``: an app's secrets, kept sealed by the server.

``set APP NAME`` reads the value from stdin when it is piped (one trailing newline is
dropped: ``printf %s`` and ``echo`` both work) or asks for it without echoing it; the
value never appears on the command line, so it stays out of shell history and process
listings. ``--json`` sends it as a JSON value (an object of ``basic`` or ``oauth2``
settings for a ``use:`` authentication). ``list`` shows names and where each value comes
from, never values: no command, and no API route, reads a value back.
"""

from __future__ import annotations

import getpass
import json
import sys
from typing import Annotated, Any

import typer

from flowapp.cli.client.config import LocalProblem
from flowapp.cli.options import JsonOption, TokenOption, UrlOption

secret_app = typer.Typer(
    help="An app's secrets, read by its workflows through $secrets.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

AppArgument = Annotated[str, typer.Argument(help="The app.")]
NameArgument = Annotated[str, typer.Argument(help="The secret's name, as use.secrets lists it.")]


def _read_value(name: str, as_json: bool) -> Any:
    if sys.stdin.isatty():
        text = getpass.getpass(f"value of {name} (not shown): ")
    else:
        text = sys.stdin.read()
        text = text[:-1] if text.endswith("\n") else text
    if not text:
        raise LocalProblem("the value is empty: pipe it on stdin or type it at the prompt")
    if not as_json:
        return text
    try:
        return json.loads(text)
    except ValueError as error:
        raise LocalProblem(f"--json: the value is not JSON: {error}") from None


@secret_app.command("set")
def set_secret(
    app: AppArgument,
    name: NameArgument,
    as_value_json: Annotated[
        bool, typer.Option("--json", help="The value is JSON (e.g. an object of settings).")
    ] = False,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Set a secret from stdin (or a prompt that does not echo)."""
    from flowapp.cli.client.api import connect
    from flowapp.cli.output import note

    value = _read_value(name, as_value_json)
    with connect(url, token) as api:
        path = f"/api/v1/apps/{app}/secrets/{name}"
        info = api.json("PUT", path, json={"value": value})
    message = f"secret {name} of {app} set"
    if info.get("source") != "store":
        message += f"; the {info['source']} given to flowapp up overrides it"
    note(message)


@secret_app.command("list")
def list_secrets(
    app: AppArgument, url: UrlOption = None, token: TokenOption = None, as_json: JsonOption = False
) -> None:
    """The app's secrets: names and where each value comes from."""
    from flowapp.cli.client.api import connect
    from flowapp.cli.output import print_json

    with connect(url, token) as api:
        items = api.json("GET", f"/api/v1/apps/{app}/secrets")["items"]
    if as_json:
        print_json(items)
        return
    for item in items:
        also = f" (overrides {', '.join(item['also_in'])})" if item.get("also_in") else ""
        typer.echo(f"{item['name']}\t{item['source']}{also}")


@secret_app.command("delete")
def delete_secret(
    app: AppArgument, name: NameArgument, url: UrlOption = None, token: TokenOption = None
) -> None:
    """Delete a secret the server keeps."""
    from flowapp.cli.client.api import delete_path
    from flowapp.cli.output import note

    delete_path(url, token, f"/api/v1/apps/{app}/secrets/{name}")
    note(f"secret {name} of {app} deleted")
