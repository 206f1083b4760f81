"""How ``flowapp status`` and ``flowapp alerts list`` look: rich renderables from the
API's JSON."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.markup import escape
from rich.table import Table

from flowapp.cli.client.apps import ready_text, traffic_text


def status_view(found: dict[str, Any]) -> Group:
    revision = found.get("deployed_revision") or "none"
    header = (
        f"[bold]{escape(found['app'])}[/bold]: {ready_text(found['conditions'])}[/]"
        f"  revision {escape(revision)}"
        f"  traffic {escape(traffic_text(found['traffic']) or '-')}"
    )
    parts: list[Any] = [header, conditions_table(found["conditions"])]
    observation = found.get("observation") or {}
    if observation.get("functions") or observation.get("triggers"):
        parts.append(parts_table(observation))
    return Group(*parts)


def conditions_table(conditions: list[dict[str, Any]]) -> Table:
    table = Table(title="Conditions", title_justify="left")
    for column in ("type", "status", "reason", "since", "message"):
        table.add_column(column, overflow="fold")
    for condition in conditions:
        table.add_row(
            escape(str(condition.get("type"))),
            escape(str(condition.get("status"))),
            escape(str(condition.get("reason") or "")),
            escape(str(condition.get("last_transition_time") or "")),
            escape(str(condition.get("message") or "")),
        )
    return table


def parts_table(observation: dict[str, Any]) -> Table:
    table = Table(title="Functions and triggers", title_justify="left")
    for column in ("kind", "name", "state", "instances", "last error"):
        table.add_column(column, overflow="fold")
    for kind, items in (("function", observation.get("functions") or {}),
                        ("trigger", observation.get("triggers") or {})):  # fmt: skip
        for name, seen in sorted(items.items()):
            table.add_row(
                kind,
                escape(name),
                escape(str(seen.get("state") or "")),
                str(seen.get("instances", "")),
                escape(str(seen.get("last_error") or "")),
            )
    return table


def alerts_table(app_name: str, items: list[dict[str, Any]]) -> Table:
    table = Table(title=f"Alert rules of {escape(app_name)}", title_justify="left")
    table.add_column("id", no_wrap=True)
    for column in ("name", "kind", "threshold", "window", "function", "webhook", "enabled"):
        table.add_column(column, overflow="fold")
    for rule in items:
        table.add_row(
            str(rule["id"]),
            escape(rule["name"]),
            rule["kind"],
            f"{rule['threshold']:g}",
            f"{rule['window_seconds']:g} s",
            escape(rule.get("function") or "-"),
            escape(rule["webhook_url"]),
            "yes" if rule.get("enabled", True) else "no",
        )
    return table
