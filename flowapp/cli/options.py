"""Options many commands share: which server and token, which local store, which output.

A command that can act on a server or on a local database takes both ``--db`` and
``--url``: ``--db`` names a local store; otherwise ``--url`` or the saved login
(``flowapp login``) names a server; with neither, the default local store is used.
"""

from __future__ import annotations

from enum import StrEnum
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
DbOption = Annotated[
    str | None,
    typer.Option(
        help="A local store instead of a server: sqlite:///path.db or postgresql://…",
        show_default=False,
    ),
]
IdArgument = Annotated[
    str, typer.Argument(metavar="ID", help="The execution's id, or a unique prefix of it.")
]
WaitOption = Annotated[
    float, typer.Option(min=0, help="Seconds to wait for the outcome (0: don't wait).")
]


class LogFormat(StrEnum):
    text = "text"
    json = "json"


LogFormatOption = Annotated[
    LogFormat,
    typer.Option(
        "--log-format",
        help="text, or json: every log line (the functions' too) a JSON object with "
        "execution_id, task_reference and trace_id when it is about an execution.",
    ),
]


def function_urls(values: list[str]) -> dict[str, str]:
    """The ``--function NAME=URL`` options of the commands that call functions by URL."""
    from flowapp.cli.failures import InvalidInput

    urls = {}
    for value in values:
        name, separator, url = value.partition("=")
        if not separator or not name or not url:
            raise InvalidInput(f"--function expects NAME=URL, got {value!r}")
        urls[name] = url
    return urls


def uses_server(db: str | None, url: str | None) -> bool:
    """Whether a command that can do either should talk to a server (see above)."""
    from flowapp.cli.client.config import remote_configured

    return db is None and remote_configured(url)
