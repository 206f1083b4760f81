"""Commands for what the API does to an app: ``status``, ``traffic``, ``rollback``,
``delete``, and ``alerts list | create | delete``.

Each is one or two requests (``docs/api.md``), on the server the CLI is logged in to or
``--url``; ``--json`` prints the API's answer as it is.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from flowapp.cli.options import JsonOption, TokenOption, UrlOption

AppArgument = Annotated[str, typer.Argument(metavar="APP", help="The app.")]


def status(
    app_name: AppArgument,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show whether an app is ready: revision, traffic, conditions, functions, triggers."""
    from flowapp.cli.client.api import ask
    from flowapp.cli.output import show
    from flowapp.cli.platform_views import status_view

    found = ask(url, token, "GET", f"/api/v1/apps/{app_name}/status")
    show(found, as_json=as_json, view=status_view)


def traffic(
    app_name: AppArgument,
    splits: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[REVISION=PERCENT]...",
            help="The new split, e.g. shop-00001=10 shop-00002=90 (none: show it).",
        ),
    ] = None,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show or set how an app's executions are split between its revisions."""
    from flowapp.cli.client.api import connect
    from flowapp.cli.output import print_json

    path = f"/api/v1/apps/{app_name}/traffic"
    with connect(url, token) as api:
        if splits:
            answer = api.json("PUT", path, json=parse_splits(splits))
        else:
            answer = api.json("GET", path)
    if as_json:
        print_json(answer)
    else:
        _print_traffic(app_name, answer)


def rollback(
    app_name: AppArgument,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send all traffic back to the revision before the current one."""
    from flowapp.cli.client.api import ask
    from flowapp.cli.output import print_json

    answer = ask(url, token, "POST", f"/api/v1/apps/{app_name}/rollback")
    if as_json:
        print_json(answer)
    else:
        _print_traffic(app_name, _traffic_of(answer))


def delete(
    app_name: AppArgument,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Delete an app: its functions and triggers stop; its executions stay."""
    from flowapp.cli.client.api import delete_path
    from flowapp.cli.failures import InvalidInput
    from flowapp.cli.output import note

    if not yes:
        import sys

        if not sys.stdin.isatty():
            raise InvalidInput(f"not deleting {app_name} without --yes", hint="add --yes")
        typer.confirm(f"Delete the app {app_name}?", abort=True, err=True)
    delete_path(url, token, f"/api/v1/apps/{app_name}")
    note(f"deleted {app_name}")


def parse_splits(values: list[str]) -> list[dict[str, Any]]:
    """``REVISION=PERCENT`` arguments as the API's traffic array."""
    from flowapp.cli.failures import InvalidInput

    splits = []
    for value in values:
        revision, separator, percent = value.partition("=")
        if not separator or not revision or not percent.strip().isdigit():
            raise InvalidInput(
                f"`{value}` is not REVISION=PERCENT", hint="e.g. shop-00002=90 (see `flowapp apps`)"
            )
        splits.append({"revision": revision, "percent": int(percent)})
    return splits


def _traffic_of(answer: Any) -> list[dict[str, Any]]:
    """The rollback route answers with the app; the traffic routes with the split."""
    return list(answer.get("traffic", [])) if isinstance(answer, dict) else list(answer)


def _print_traffic(app_name: str, splits: list[dict[str, Any]]) -> None:
    from flowapp.cli.client.apps import traffic_text

    typer.echo(f"{app_name}: {traffic_text(splits) or 'no traffic (not deployed)'}")


class AlertKind(StrEnum):
    failed_executions = "failed_executions"
    function_error_rate = "function_error_rate"
    latency_p95 = "latency_p95"


alerts_app = typer.Typer(
    help="An app's alert rules: a webhook called when a threshold is crossed.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@alerts_app.command("list")
def list_alerts(
    app_name: AppArgument,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """List an app's alert rules."""
    from flowapp.cli.client.api import ask
    from flowapp.cli.output import show
    from flowapp.cli.platform_views import alerts_table

    items = ask(url, token, "GET", f"/api/v1/apps/{app_name}/alerts")["items"]
    show(items, as_json=as_json, view=lambda items: alerts_table(app_name, items))


@alerts_app.command("create")
def create_alert(
    app_name: AppArgument,
    name: Annotated[str, typer.Option("--name", help="The rule's name, unique in the app.")],
    kind: Annotated[AlertKind, typer.Option("--kind", help="What is measured.")],
    threshold: Annotated[
        float, typer.Option("--threshold", min=0, help="Alert above this (count, rate, seconds).")
    ],
    webhook: Annotated[str, typer.Option("--webhook", help="The http(s) URL to call.")],
    window: Annotated[
        int, typer.Option("--window", min=1, help="Seconds measured, back from now.")
    ] = 300,
    function: Annotated[
        str | None, typer.Option("--function", help="Only this function (function_error_rate).")
    ] = None,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an alert rule (see docs/alerts.md)."""
    from flowapp.cli.client.api import ask
    from flowapp.cli.output import note, print_json

    body = {
        "name": name,
        "kind": kind.value,
        "threshold": threshold,
        "window_seconds": window,
        "webhook_url": webhook,
        "function": function,
    }
    created = ask(url, token, "POST", f"/api/v1/apps/{app_name}/alerts", json=body)
    if as_json:
        print_json(created)
    else:
        typer.echo(created["id"])
        note(f"alert rule {created['name']} of {app_name} created")


@alerts_app.command("delete")
def delete_alert(
    app_name: AppArgument,
    rule_id: Annotated[int, typer.Argument(metavar="ID", min=1, help="As `alerts list` shows.")],
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Delete an alert rule."""
    from flowapp.cli.client.api import delete_path
    from flowapp.cli.output import note

    delete_path(url, token, f"/api/v1/apps/{app_name}/alerts/{rule_id}")
    note(f"alert rule {rule_id} of {app_name} deleted")


def register(app: typer.Typer, *, panel: str) -> None:
    for command in (status, traffic, rollback, delete):
        app.command(rich_help_panel=panel)(command)
    app.add_typer(alerts_app, name="alerts", rich_help_panel=panel)
