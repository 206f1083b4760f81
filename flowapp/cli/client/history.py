"""A server's executions: ``GET /api/v1/executions`` and ``GET /api/v1/executions/{id}``.

Their JSON is what the local commands print too (``flowapp.server.views``), so
``--json`` output is the same whether a command reads a server or a local store.
"""

from __future__ import annotations

from typing import Any


def list_remote(
    *,
    app_name: str | None,
    status: str | None,
    limit: int,
    url: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    from flowapp.cli.client.api import connect
    from flowapp.cli.output import print_json
    from flowapp.cli.tables import print_executions

    params: dict[str, Any] = {"app": app_name, "status": status, "limit": limit}
    with connect(url, token) as api:
        page = api.json("GET", "/api/v1/executions", params=_present(params))
        source = f"the server {api.url}"
    if as_json:
        print_json(page["items"])
    else:
        print_executions(page["items"], source=source)


def show_remote(execution_id: str, *, url: str | None, token: str | None, as_json: bool) -> None:
    from flowapp.cli.client.api import connect
    from flowapp.cli.output import print_json, stdout
    from flowapp.cli.shortids import resolve_remote
    from flowapp.cli.tables import task_runs_table

    with connect(url, token) as api:
        found = api.json("GET", f"/api/v1/executions/{resolve_remote(api, execution_id)}")
        _every_task_run(api, found)
    if as_json:
        print_json(found)
    else:
        stdout().print(task_runs_table(found))


def _every_task_run(api: Any, found: dict[str, Any]) -> None:
    """The server answers with the first task runs; the rest come a page at a time."""
    cursor = found.get("tasks_next_cursor")
    while cursor:
        path = f"/api/v1/executions/{found['id']}/tasks"
        page = api.json("GET", path, params={"cursor": cursor, "limit": 1000})
        found["tasks"].extend(page["items"])
        cursor = page["next_cursor"]
    found["tasks_next_cursor"] = None


def _present(params: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in params.items() if value is not None}
