"""``flowapp apps``: the server's apps, their deployed revision, traffic and readiness."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

from flowapp.cli.client.api import connect
from flowapp.cli.client.options import JsonOption, TokenOption, UrlOption
from flowapp.cli.client.output import handled, print_json, stdout


def apps(url: UrlOption = None, token: TokenOption = None, as_json: JsonOption = False) -> None:
    """List the apps on the server."""
    with handled(), connect(url, token) as api:
        items = api.request("GET", "/api/v1/apps").json()["items"]
        if as_json:
            print_json(items)
        else:
            stdout().print(apps_table(items))


def apps_table(items: list[dict[str, Any]]) -> Table:
    table = Table(title="Apps")
    for column in ("name", "namespace", "revision", "traffic", "ready"):
        table.add_column(column)
    for item in items:
        traffic = ", ".join(f"{s['revision']} {s['percent']}%" for s in item["traffic"])
        ready: dict[str, Any] = next(
            (c for c in item["conditions"] if c.get("type") == "Ready"), {}
        )
        reason = escape(str(ready.get("reason", "unknown")))
        shown = "[green]ready" if ready.get("status") == "True" else f"[yellow]{reason}"
        table.add_row(
            escape(item["name"]),
            escape(item["namespace"]),
            escape(item.get("deployed_revision") or "-"),
            escape(traffic or "-"),
            shown,
        )
    return table
