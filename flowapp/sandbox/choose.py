"""Choosing the sandbox at start-up, by trying it: :func:`open_sandbox`.

``auto`` (the default of ``flowapp up``) runs a trivial command through bubblewrap with
the real options; if that works, ``bwrap``. If not and the server is root, the fallback
``user`` mode, with a loud warning that says why and what it gives up. Neither (not root,
no working bubblewrap): :class:`SandboxUnavailable`, and ``flowapp up`` refuses to start
unless told ``--sandbox off``. Asking for ``bwrap`` or ``user`` explicitly never falls
back: it works or it refuses.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from flowapp.sandbox.sandbox import Sandbox, SandboxSettings, run_blocking

_PROBE_TIMEOUT = 15.0


class SandboxUnavailable(Exception):
    """The sandbox asked for cannot run on this machine; the message says why."""


def open_sandbox(settings: SandboxSettings) -> tuple[Sandbox, list[str]]:
    """The sandbox to use, and the warnings to show at start-up."""
    as_root = os.geteuid() == 0
    if settings.mode == "off":
        return Sandbox("off", settings), [_OFF]
    problem = None
    if settings.mode in ("auto", "bwrap"):
        problem = _bwrap_problem(settings, as_root=as_root)
        if problem is None:
            return Sandbox("bwrap", settings, as_root=as_root), [] if as_root else [_NOT_ROOT]
        if settings.mode == "bwrap":
            raise SandboxUnavailable(f"bubblewrap cannot run here: {problem}")
    if not as_root:
        raise SandboxUnavailable(
            f"no sandbox can run here: bubblewrap does not work ({problem}) and the "
            "server is not root, so it cannot run code as another user. Install "
            "bubblewrap (Debian: apt-get install bubblewrap), run as root, or accept "
            "running untrusted code as this user with --sandbox off"
        )
    sandbox = Sandbox("user", settings, as_root=True)
    reason = f"bubblewrap does not work ({problem})" if problem else "--sandbox user was asked"
    return sandbox, [_fallback(reason), *_fallback_reach(sandbox)]


def _bwrap_problem(settings: SandboxSettings, *, as_root: bool) -> str | None:
    if not os.access(settings.bwrap, os.X_OK):
        return f"{settings.bwrap} is not an executable file"
    if as_root and not os.access(settings.setpriv, os.X_OK):
        return f"{settings.setpriv} (util-linux) is missing: it drops to the app's user"
    sandbox = Sandbox("bwrap", settings, as_root=as_root)
    return _failure(sandbox, ["/bin/true"])


def _failure(sandbox: Sandbox, argv: list[str]) -> str | None:
    spawn = sandbox.spawn(argv, app="flowapp-probe", env={})
    try:
        result = run_blocking(spawn, timeout=_PROBE_TIMEOUT)
    except (OSError, subprocess.SubprocessError) as exc:
        return str(exc)
    if result.returncode == 0:
        return None
    output = (result.stderr or result.stdout).strip().splitlines()
    return " / ".join(output[-3:]) or f"exit code {result.returncode}"


def _fallback_reach(sandbox: Sandbox) -> list[str]:
    """What the app users will not reach in the fallback: warned now, not at a deploy."""
    warnings = []
    for folder in sandbox.settings.hidden:
        closed = [p for p in Path(folder).resolve().parents if not p.stat().st_mode & 0o001]
        if closed:
            warnings.append(
                f"the sandbox fallback cannot reach function folders in {folder}: "
                f"{closed[0]} is not searchable by other users; move the data directory "
                "(--data-dir) somewhere they can pass, or install bubblewrap"
            )
    problem = _failure(sandbox, [sys.executable, "-c", "import flowapp.functions.host"])
    if problem is not None:
        warnings.append(
            f"Python functions cannot start in the sandbox fallback: {sys.executable} with "
            f"flowapp is not usable by an unprivileged user ({problem})"
        )
    return warnings


_OFF = (
    "THE SANDBOX IS OFF: functions and run: shell/script processes run as this server's "
    "user, with its environment, and can read its data directory (admin token, "
    "database). Use this only when every token holder is trusted."
)
_NOT_ROOT = (
    "the sandbox runs code as this server's own user (in bubblewrap namespaces: the data "
    "directory is not visible to it), because the server is not root; processes count "
    "against this user's limits. Run flowapp up as root for a user per app."
)


def _fallback(reason: str) -> str:
    return (
        f"SANDBOX FALLBACK: {reason}. Functions and run processes run as a separate "
        "unprivileged user per app, with a scrubbed environment and resource limits, but "
        "WITHOUT namespaces: they see every file that any user may read, share /tmp and "
        "the process table with the host, and the data directory is made traversable "
        "(0711) so they reach their own function folders. Install bubblewrap "
        "(Debian: apt-get install bubblewrap) for the full sandbox."
    )
