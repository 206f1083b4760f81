"""Starting untrusted code: :class:`Sandbox` turns a command into a confined :class:`Spawn`.

Three modes, chosen once at start-up by :func:`open_sandbox`:

- ``bwrap``: bubblewrap (``bwrap.py``) with the app's own user (``identity.py``) when the
  server runs as root, a scrubbed environment (``environment.py``) and resource limits
  (``limits.py``). Not root: the same namespaces, but the code keeps the server's user.
- ``user`` (the fallback, root without a working bubblewrap): the app's own user, the
  scrubbed environment and the limits, without namespaces. It gives up the private view
  of the file system (the code sees what file permissions let any user see), the private
  ``/tmp`` and process table; the data directory must be traversable (0711) for the app's
  user to reach its function folders.
- ``off``: the code runs as the server, with its environment (``flowapp run``, ``flowapp
  dev``: one's own code on one's own machine), and no limits.

A :class:`Spawn` is what ``subprocess``/``asyncio`` need to start the process; the same
object serves function instances, their dependency builds and ``run`` processes.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from flowapp.sandbox import limits as rlimits
from flowapp.sandbox.bwrap import Confinement, bwrap_argv
from flowapp.sandbox.environment import (
    SANDBOX_PATH,
    SecretEnvironment,
    base_environment,
    compose,
)
from flowapp.sandbox.identity import DEFAULT_UID_BASE, AppUser, app_user, hand_over
from flowapp.sandbox.limits import Limits

Mode = Literal["bwrap", "user", "off"]
_PR_SET_PDEATHSIG = 1  # <sys/prctl.h>


@dataclass(frozen=True, slots=True)
class SandboxSettings:
    """How ``flowapp up`` confines code. ``mode`` "auto" picks the strongest that works."""

    mode: Literal["auto", "bwrap", "user", "off"] = "auto"
    bwrap: str = "/usr/bin/bwrap"
    setpriv: str = "/usr/bin/setpriv"
    limits: Limits = field(default_factory=Limits)
    uid_base: int = DEFAULT_UID_BASE
    pass_env: tuple[str, ...] = ()
    binds: tuple[Path, ...] = ()  # more read-only folders (a JDK under /opt, say)
    hidden: tuple[Path, ...] = ()  # the data directory


@dataclass(frozen=True, slots=True)
class Spawn:
    """A confined command, ready for ``subprocess.Popen(**spawn.popen_args())``."""

    argv: tuple[str, ...]
    cwd: Path
    env: dict[str, str]
    preexec: Callable[[], None]
    user: AppUser | None = None
    # True when the code runs under bubblewrap's init: SIGTERM must go to the code itself
    # (``code_pids``), since bwrap dies of it and takes the code down without a drain.
    nested: bool = False

    def popen_args(self) -> dict[str, Any]:
        args: dict[str, Any] = {"cwd": self.cwd, "env": self.env, "preexec_fn": self.preexec}
        if self.user is not None:
            args.update(user=self.user.uid, group=self.user.gid, extra_groups=[])
        return args


class Sandbox:
    def __init__(
        self, mode: Mode, settings: SandboxSettings | None = None, *, as_root: bool = False
    ) -> None:
        self.mode = mode
        self.settings = settings or SandboxSettings(mode=mode)
        self.as_root = as_root  # the code gets an app user of its own
        self.secrets: SecretEnvironment | None = None

    @property
    def limits(self) -> Limits | None:
        return None if self.mode == "off" else self.settings.limits

    @property
    def confined(self) -> bool:
        return self.mode != "off"

    def user_of(self, app: str) -> AppUser | None:
        if self.mode == "off" or not self.as_root:
            return None
        return app_user(app, base=self.settings.uid_base)

    def spawn(
        self,
        argv: Sequence[str],
        *,
        app: str,
        env: Mapping[str, str],
        cwd: Path | None = None,
        readable: Iterable[Path] = (),
        writable: Iterable[Path] = (),
    ) -> Spawn:
        """``argv`` confined for ``app``, with ``env`` (the declared and contract
        variables) on top of the base environment; ``readable`` and ``writable`` are
        the folders it needs besides the system's (interpreters, its own folder)."""
        if self.mode == "off":  # the app's secrets still, as with every other mode
            unconfined = compose(os.environ, env, app=app, secrets=self.secrets)
            return Spawn(tuple(argv), cwd or Path.cwd(), unconfined, _die_with_parent)
        settings = self.settings
        full_env = compose(base_environment(settings.pass_env), env, app=app, secrets=self.secrets)
        user = self.user_of(app)
        limits = settings.limits
        preexec = _confining(limits, count_processes=user is not None)
        if self.mode == "user":
            return Spawn(tuple(argv), cwd or Path("/tmp"), full_env, preexec, user)
        confinement = Confinement(
            readable=tuple(_real(p) for p in (*readable, *settings.binds)),
            writable=tuple(_real(p) for p in writable),
            hidden=tuple(_real(p) for p in settings.hidden),
            cwd=_real(cwd) if cwd else Path("/tmp"),
            tmp_bytes=limits.tmp_bytes,
        )
        command = bwrap_argv(settings.bwrap, confinement, argv, user=user, setpriv=settings.setpriv)
        return Spawn(tuple(command), Path("/"), full_env, preexec, nested=True)

    def search_path(self) -> str:
        """Where bare program names are found for the code (its ``PATH``)."""
        return os.environ.get("PATH", SANDBOX_PATH) if self.mode == "off" else SANDBOX_PATH

    def hand_over(self, folder: Path, app: str, *, again: bool = False) -> None:
        """Give ``folder`` (a function's, in a revision) to the app's user (``again``: even
        if it was, for files written since); in the fallback also open the way to it
        (folders above it inside the data directory become 0711). Only folders inside the
        data directory change hands: a project served in place (``flowapp dev``) stays
        its owner's, and must be readable (and, for a build, writable) by the app's user."""
        user = self.user_of(app)
        real = _real(folder)
        inside = _parents_inside(real, [_real(h) for h in self.settings.hidden])
        if user is None or not inside:
            return
        hand_over(real, user, again=again)
        if self.mode == "user":
            for parent in inside:
                parent.chmod(parent.stat().st_mode | 0o111)

    def description(self) -> str:
        if self.mode == "off":
            return "off: untrusted code runs as the server's user, with its environment"
        who = "an unprivileged user per app" if self.as_root else "the server's user"
        how = "bubblewrap namespaces" if self.mode == "bwrap" else "file permissions only"
        limits = self.settings.limits.describe()
        return f"{self.mode}: as {who}, isolated by {how}; {limits}"


def code_pids(spawned: int) -> list[int]:
    """Host pids of the code bubblewrap ``spawned`` runs: the children of its init."""
    found: list[int] = []
    for init in _children(spawned):
        found += _children(init)
    return found


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def _confining(limits: Limits, *, count_processes: bool) -> Callable[[], None]:
    def preexec() -> None:
        _die_with_parent()
        rlimits.apply(limits, count_processes=count_processes)

    return preexec


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to SIGTERM it when its parent dies, so a
    supervisor killed with SIGKILL leaves no process behind. Elsewhere a no-op."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _parents_inside(folder: Path, roots: list[Path]) -> list[Path]:
    """The folders from a root (included) down to ``folder`` (excluded)."""
    for root in roots:
        if root in folder.parents:
            depth = len(folder.relative_to(root).parts)
            return [root, *list(reversed(folder.parents[: depth - 1]))]
    return []


def run_blocking(spawn: Spawn, *, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run a spawned command to its end (a dependency build), output captured."""
    return subprocess.run(
        spawn.argv,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        start_new_session=True,
        **spawn.popen_args(),
    )
