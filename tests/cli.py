"""The ``flowapp`` command in a child process, as a user runs it from a terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

Flowapp = Callable[..., subprocess.CompletedProcess[str]]


def run_flowapp(
    *args: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """``flowapp ARGS``, its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "flowapp.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=None if env is None else dict(env),
    )


def isolated_environment(home: Path, **extra: str) -> dict[str, str]:
    """This environment without the caller's flowapp settings: a home of its own, and the
    wide, colourless output a script reads."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWAPP_", "_FLOWAPP"))}
    env.update(FLOWAPP_HOME=str(home), COLUMNS="200", NO_COLOR="1", **extra)
    return env
