"""``flowapp cancel | suspend | resume | retry | rerun ID``: control an execution.

On the server the CLI is logged in to (or ``--url``), through the API; on a local store
with ``--db`` (or when nothing names a server). ``retry`` runs a faulted execution again
from the task that failed, keeping what completed before; ``rerun`` starts a new
execution with the same input. Both print the outcome as ``flowapp run`` does.
"""

from __future__ import annotations

from collections.abc import Callable

import typer

from flowapp.cli.options import (
    DbOption,
    IdArgument,
    TokenOption,
    UrlOption,
    WaitOption,
    uses_server,
)


def _signal(action: str, prefix: str, db: str | None, url: str | None, token: str | None) -> None:
    if uses_server(db, url):
        from flowapp.cli.client.control import signal_remote

        signal_remote(action, prefix, url=url, token=token)
    else:
        from flowapp.cli.localdb.control import signal_local

        signal_local(action, prefix, db=db)


def _again(
    action: str, prefix: str, db: str | None, url: str | None, token: str | None, wait: float
) -> None:
    if uses_server(db, url):
        from flowapp.cli.client.control import retry_remote

        retry_remote(action, prefix, wait=wait, url=url, token=token)
    else:
        from flowapp.cli.localdb.control import retry_local

        retry_local(action, prefix, db=db)


# Each command's one-line help, in the order ``flowapp --help`` lists them.
_SIGNALS = {
    "cancel": "Cancel an execution: whatever it waits for is stopped.",
    "suspend": "Suspend an execution: results that arrive meanwhile wait for `resume`.",
    "resume": "Resume a suspended execution.",
}
_AGAIN = {
    "retry": "Run a faulted execution again from the task that failed, keeping earlier outputs.",
    "rerun": "Start a new execution of the same workflow with the same input.",
}


def _signal_command(action: str) -> Callable[..., None]:
    def command(
        execution_id: IdArgument,
        db: DbOption = None,
        url: UrlOption = None,
        token: TokenOption = None,
    ) -> None:
        _signal(action, execution_id, db, url, token)

    return command


def _again_command(action: str) -> Callable[..., None]:
    def command(
        execution_id: IdArgument,
        wait: WaitOption = 30.0,
        db: DbOption = None,
        url: UrlOption = None,
        token: TokenOption = None,
    ) -> None:
        _again(action, execution_id, db, url, token, wait)

    return command


def register(app: typer.Typer, *, panel: str) -> None:
    for action, summary in _AGAIN.items():
        app.command(action, help=summary, rich_help_panel=panel)(_again_command(action))
    for action, summary in _SIGNALS.items():
        app.command(action, help=summary, rich_help_panel=panel)(_signal_command(action))
