"""``--egress`` and ``--allow-egress``: which addresses workflows' outbound calls may
reach (``flowapp.runtime.egress``). ``flowapp up`` enforces the policy by default;
``flowapp run`` and ``flowapp dev`` leave it open unless asked (``--egress enforce``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from flowapp.cli.failures import InvalidInput

if TYPE_CHECKING:
    from flowapp.runtime.egress import EgressPolicy

MODES = ("enforce", "open")
EGRESS_HELP = (
    "enforce: outbound calls reach public addresses and the --allow-egress list only; "
    "open: any address."
)
ALLOW_HELP = (
    "Addresses, networks or host names outbound calls may reach although not public, "
    "comma-separated, repeatable: 10.0.0.0/8,api.internal:8443,*.corp.example. "
    "Also FLOWAPP_ALLOW_EGRESS."
)

AllowEgressOption = Annotated[
    list[str],
    typer.Option("--allow-egress", envvar="FLOWAPP_ALLOW_EGRESS", help=ALLOW_HELP),
]
EgressOption = Annotated[str, typer.Option("--egress", help=EGRESS_HELP)]


def egress_policy(mode: str, allowed: list[str]) -> EgressPolicy:
    """The policy the options ask for; a bad entry is an invalid input (exit 2)."""
    from flowapp.runtime.egress import EgressPolicy

    if mode not in MODES:
        raise InvalidInput(f"--egress must be one of {', '.join(MODES)}, not `{mode}`")
    try:
        enforced = EgressPolicy.enforcing(allowed)
    except ValueError as error:
        raise InvalidInput(f"--allow-egress: {error}") from None
    if mode == "open":
        if enforced.allowed:
            typer.echo("note: --allow-egress has no effect with --egress open", err=True)
        return EgressPolicy()
    return enforced
