"""``flowapp apps``: the server's apps, their deployed revision, traffic and readiness."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowapp.cli.options import JsonOption, TokenOption, UrlOption

if TYPE_CHECKING:
    from rich.table import Table


def apps(url: UrlOption = None, token: TokenOption = None, as_json: JsonOption = False) -> None:
    """List the apps on the server."""
    from flowapp.cli.client.api import ask
    from flowapp.cli.output import show

    items = ask(url, token, "GET", "/api/v1/apps")["items"]
    show(items, as_json=as_json, view=apps_table)


def ready_text(conditions: list[dict[str, Any]]) -> str:
    from rich.markup import escape

    ready: dict[str, Any] = next((c for c in conditions if c.get("type") == "Ready"), {})
    reason = escape(str(ready.get("reason", "unknown")))
    return "[green]ready" if ready.get("status") == "True" else f"[yellow]{reason}"


def traffic_text(traffic: list[dict[str, Any]]) -> str:
    return ", ".join(f"{split['revision']} {split['percent']}%" for split in traffic)


def apps_table(items: list[dict[str, Any]]) -> Table:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="Apps", title_justify="left")
    for column in ("name", "namespace", "revision", "traffic", "ready"):
        table.add_column(column)
    for item in items:
        table.add_row(
            escape(item["name"]),
            escape(item["namespace"]),
            escape(item.get("deployed_revision") or "-"),
            escape(traffic_text(item["traffic"]) or "-"),
            ready_text(item["conditions"]),
        )
    return table
