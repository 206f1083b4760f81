"""The command-line options that say how untrusted code is confined (``flowapp up``,
``flowapp dev --sandbox``, ``flowapp run --sandbox``) and which ``run`` processes apps
may start (``--allow-run``). What they mean: ``docs/security.md``, "Untrusted code".

Only the options' types live at the top: the sandbox itself is imported when a command
runs (``flowapp --help`` loads nothing of it)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from flowapp.cli.failures import InvalidInput

if TYPE_CHECKING:
    from flowapp.sandbox import SandboxSettings

MODES = ("auto", "bwrap", "user", "off")
PROCESS_KINDS = ("shell", "script", "container")
DEFAULT_UID_BASE = 1_800_000_000  # flowapp.sandbox.identity.DEFAULT_UID_BASE

SandboxMode = Annotated[
    str,
    typer.Option(
        "--sandbox",
        help="How functions and run: shell/script processes are confined: auto (bubblewrap "
        "with a user per app; without bubblewrap, root falls back to a user per app, with a "
        "warning), bwrap, user, or off (they run as this user, with its environment).",
    ),
]
# ``flowapp run`` and ``flowapp dev`` run the user's own code on the user's own machine.
OwnCodeSandbox = Annotated[
    bool,
    typer.Option(
        "--sandbox",
        help="Confine functions and run: shell/script processes as flowapp up does "
        "(off by default: it is your own code on your own machine).",
    ),
]
BwrapPath = Annotated[str, typer.Option("--bwrap", help="The bubblewrap program.")]
AllowRun = Annotated[
    str,
    typer.Option(
        "--allow-run",
        help="Let every app start these run processes: shell,script,container. None by "
        "default; an admin can allow one app with `flowapp allow-run APP KINDS`.",
    ),
]
SandboxLimits = Annotated[
    str,
    typer.Option(
        "--sandbox-limits",
        help="Limits of sandboxed code, e.g. cpu=600,memory=1G,processes=1024,files=1024,"
        "output=1M,tmp=256M (CPU seconds per process; processes and threads per app; "
        "output of each run process's stdout and stderr; size of its /tmp).",
    ),
]
SandboxBind = Annotated[
    list[Path],
    typer.Option(
        "--sandbox-bind",
        help="A folder sandboxed code may read besides /usr, its interpreter and its own "
        "folder, e.g. a JDK in /opt (repeatable).",
    ),
]
SandboxPassEnv = Annotated[
    list[str],
    typer.Option(
        "--sandbox-pass-env",
        help="A variable of this environment to pass to sandboxed code, e.g. "
        "PIP_INDEX_URL (repeatable; nothing else is passed but the locale and TZ).",
    ),
]
SandboxUidBase = Annotated[
    int, typer.Option("--sandbox-uid-base", help="First user id of the per-app users.")
]


def sandbox_settings(
    mode: str,
    *,
    bwrap: str = "/usr/bin/bwrap",
    limits: str = "",
    binds: list[Path] | None = None,
    pass_env: list[str] | None = None,
    uid_base: int = DEFAULT_UID_BASE,
) -> SandboxSettings:
    """The settings the options describe; ``InvalidInput`` (exit 2) for a bad value."""
    from flowapp.sandbox import SandboxSettings
    from flowapp.sandbox.limits import parse_limits

    if mode not in MODES:
        raise InvalidInput(f"--sandbox must be one of {', '.join(MODES)}, not {mode!r}")
    try:
        parsed = parse_limits(limits)
    except ValueError as exc:
        raise InvalidInput(f"--sandbox-limits: {exc}") from None
    return SandboxSettings(
        mode=mode,  # type: ignore[arg-type]  # checked against MODES above
        bwrap=bwrap,
        limits=parsed,
        uid_base=uid_base,
        pass_env=tuple(pass_env or ()),
        binds=tuple(path.resolve() for path in binds or ()),
    )


def allowed_runs(text: str) -> frozenset[str]:
    kinds = frozenset(word.strip() for word in text.split(",") if word.strip())
    unknown = sorted(kinds - set(PROCESS_KINDS))
    if unknown:
        known = ", ".join(PROCESS_KINDS)
        raise InvalidInput(f"--allow-run takes {known}; not {', '.join(unknown)}")
    return kinds
