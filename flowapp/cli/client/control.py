"""Controlling a server's executions: ``POST /api/v1/executions/{id}/{action}``.

The server answers 202 (the engine holding the execution applies the change soon
after). ``retry`` and ``rerun`` then follow the execution, as ``flowapp invoke`` does,
for up to ``--wait`` seconds: the output JSON and 0 when it completed, the error JSON
and 1 when it faulted or was cancelled, its id and 0 when it is still running. When
the server says which revision the execution (or its retry) runs on, that is shown.
"""

from __future__ import annotations

import time
from typing import Any

ENDED = ("completed", "faulted", "cancelled")
POLL_SECONDS = 0.2


def signal_remote(action: str, prefix: str, *, url: str | None, token: str | None) -> None:
    from flowapp.cli.client.api import connect
    from flowapp.cli.output import note
    from flowapp.cli.shortids import resolve_remote

    with connect(url, token) as api:
        execution_id = resolve_remote(api, prefix)
        api.request("POST", f"/api/v1/executions/{execution_id}/{action}")
    note(f"{action} requested for {execution_id} on {api.url}; its engine applies it")


def retry_remote(
    action: str, prefix: str, *, wait: float, url: str | None, token: str | None
) -> None:
    """``retry`` (the same execution, from the task that failed) or ``rerun`` (a new one)."""
    from flowapp.cli.client.api import connect
    from flowapp.cli.output import note
    from flowapp.cli.shortids import resolve_remote

    with connect(url, token) as api:
        execution_id = resolve_remote(api, prefix)
        path = f"/api/v1/executions/{execution_id}"
        # A retried execution reads as it ended until its engine takes the retry up.
        ended_before = api.json("GET", path).get("ended_at") if action == "retry" else None
        answer = api.json("POST", f"{path}/{action}")
        followed = answer.get("id", execution_id) if action == "rerun" else execution_id
        note(started_note(action, execution_id, followed, answer))
        found, ended = _follow(api, followed, wait, ended_before)
    _report(found, answer, ended=ended)


def started_note(action: str, execution_id: str, followed: str, answer: dict[str, Any]) -> str:
    """What stderr says: which execution, and the revision the API says it runs on."""
    said = f"retrying {execution_id}"
    if action == "rerun":
        said = f"re-run of {execution_id}: {followed}"
    revision, previous = answer.get("revision"), answer.get("previous_revision")
    if revision and previous and previous != revision:
        said += f" on revision {revision} (it ran on {previous})"
    elif revision:
        said += f" on revision {revision}"
    return said


def _follow(
    api: Any, execution_id: str, wait: float, ended_before: str | None
) -> tuple[dict[str, Any], bool]:
    """The execution once it ended (again), or as it is after ``wait`` seconds."""
    deadline = time.monotonic() + wait
    while True:
        found: dict[str, Any] = api.json("GET", f"/api/v1/executions/{execution_id}")
        ended = found["status"] in ENDED and found.get("ended_at") != ended_before
        if ended or time.monotonic() >= deadline:
            return found, ended
        time.sleep(POLL_SECONDS)


def _report(found: dict[str, Any], answer: dict[str, Any], *, ended: bool) -> None:
    import typer

    from flowapp.cli.failures import EXIT_FAULTED
    from flowapp.cli.output import note, print_json

    revision = found.get("revision")
    if ended and found["status"] == "completed":
        print_json(found.get("output"))
        if revision and not answer.get("revision"):
            note(f"{found['id']} completed on revision {revision}")
        return
    if ended:
        print_json(found.get("error"))
        raise typer.Exit(EXIT_FAULTED)
    typer.echo(found["id"])
    note(f"not ended yet; see `flowapp execution {found['id']}`")
