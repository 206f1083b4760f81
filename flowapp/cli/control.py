"""``flowapp cancel | suspend | resume | retry | rerun ID``: control an execution.

On the server the CLI is logged in to (or ``--url``), through the API; on a local store
with ``--db`` (or when nothing names a server). ``retry`` runs a faulted execution again
from the task that failed, keeping what completed before; ``rerun`` starts a new
execution with the same input. Both print the outcome as ``flowapp run`` does.
"""

from __future__ import annotations

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


def cancel(
    execution_id: IdArgument,
    db: DbOption = None,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Cancel an execution: whatever it waits for is stopped."""
    _signal("cancel", execution_id, db, url, token)


def suspend(
    execution_id: IdArgument,
    db: DbOption = None,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Suspend an execution: results that arrive meanwhile wait for `resume`."""
    _signal("suspend", execution_id, db, url, token)


def resume(
    execution_id: IdArgument,
    db: DbOption = None,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Resume a suspended execution."""
    _signal("resume", execution_id, db, url, token)


def retry(
    execution_id: IdArgument,
    wait: WaitOption = 30.0,
    db: DbOption = None,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Run a faulted execution again from the task that failed, keeping earlier outputs."""
    _again("retry", execution_id, db, url, token, wait)


def rerun(
    execution_id: IdArgument,
    wait: WaitOption = 30.0,
    db: DbOption = None,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Start a new execution of the same workflow with the same input."""
    _again("rerun", execution_id, db, url, token, wait)


def register(app: typer.Typer, *, panel: str) -> None:
    for command in (retry, rerun, cancel, suspend, resume):
        app.command(rich_help_panel=panel)(command)
