"""``flowapp allow-run APP [KINDS]``: which kinds of ``run`` process (shell, script,
container) an app may start on the server, beyond what the server allows every app.

``flowapp allow-run shop shell,script`` allows them (needs an admin token: it widens what
the app's developers can run on the server's machine); ``flowapp allow-run shop none``
takes them back; without KINDS it shows the app's policy.
"""

from __future__ import annotations

from typing import Annotated

import typer

from flowapp.cli.failures import InvalidInput
from flowapp.cli.options import JsonOption, TokenOption, UrlOption

KINDS = ("shell", "script", "container")


def allow_run(
    app: Annotated[str, typer.Argument(help="The app.")],
    kinds: Annotated[
        str | None,
        typer.Argument(help="Comma-separated: shell, script, container; or none. Omit to show."),
    ] = None,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Allow an app run: shell / script / container processes (admin), or show what it may."""
    from flowapp.cli.client.api import connect
    from flowapp.cli.output import print_json, stdout

    allowed = None if kinds is None else parse_kinds(kinds)
    with connect(url, token) as api:
        path = f"/api/v1/apps/{app}/run-policy"
        if allowed is None:
            policy = api.json("GET", path)
        else:
            policy = api.json("PUT", path, json={"allowed": allowed})
    if as_json:
        print_json(policy)
        return
    shown = ", ".join(policy["effective"]) or "none"
    own = ", ".join(policy["allowed"]) or "none"
    every = ", ".join(policy["platform"]) or "none"
    stdout().print(f"{app} may run: {shown}  (allowed to it: {own}; to every app: {every})")


def parse_kinds(text: str) -> list[str]:
    words = [word.strip() for word in text.split(",") if word.strip()]
    if words == ["none"]:
        return []
    if not words or any(word not in KINDS for word in words):
        raise InvalidInput(f"KINDS must be some of {', '.join(KINDS)}, or none; not {text!r}")
    return words
