"""Options every client command takes: which server, with which token."""

from __future__ import annotations

from typing import Annotated

import typer

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url", envvar="FLOWAPP_URL", help="The server (default: the one you logged in to)."
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option("--token", envvar="FLOWAPP_TOKEN", help="An API token (default: the saved one)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
