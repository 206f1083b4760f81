"""What ``flowapp up`` and ``flowapp dev`` print once serving: where, the admin token, and
commands to try that work as typed in the shell that started it.

``make demo`` runs ``.venv/bin/flowapp``, which is not on the PATH: the commands shown
then say ``.venv/bin/flowapp``, not ``flowapp`` (``command_name``).
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from flowapp.cli.serve import Platform


def say(message: str = "") -> None:
    from flowapp.cli import logsetup

    if logsetup.is_json():  # one JSON record per line, like the rest of the log
        for line in message.strip().splitlines():
            logging.getLogger(logsetup.ANNOUNCEMENTS).info("%s", line)
        return
    typer.echo(message, err=True)


def command_name(argv0: str | None = None) -> str:
    """How to run this flowapp again from the current folder: ``flowapp`` when that is
    what the PATH finds, else the path it was started by, else ``python -m``."""
    started = Path(argv0 if argv0 is not None else sys.argv[0])
    found = shutil.which("flowapp")
    if found is not None and started.name == "flowapp" and _same(Path(found), started):
        return "flowapp"
    if started.name == "flowapp" and started.exists():
        return shlex.quote(_relative(started))
    return f"{shlex.quote(sys.executable)} -m flowapp.cli.main"


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _relative(path: Path) -> str:
    """``.venv/bin/flowapp`` under the current folder, else the absolute path."""
    absolute = path.absolute()
    try:
        relative = absolute.relative_to(Path.cwd())
    except ValueError:
        return str(absolute)
    return str(relative) if relative.parts[0].startswith(".") else f"./{relative}"


def save_token(data_dir: Path, token: str) -> Path:
    path = data_dir / "admin-token"
    path.write_text(token + "\n")
    os.chmod(path, 0o600)
    return path


def banner(running: Platform, apps: list[str]) -> None:
    from flowapp.server.dashboard import Dashboard

    settings = running.settings
    url = f"http://{settings.host}:{settings.port}"
    token_file = settings.data_dir / "admin-token"
    say(f"\nflowapp is up on {url}  (data in {settings.data_dir})")
    if running.sandbox is not None:
        say(f"sandbox: {running.sandbox.description()}")
        allowed = ", ".join(sorted(settings.allow_run)) or "none (flowapp allow-run APP KINDS)"
        say(f"run processes allowed to every app: {allowed}")
    if Dashboard().built:
        say(f"dashboard: {url}/  (log in with the admin token)")
    else:
        say("dashboard: not built (`make install` builds it when npm is installed)")
    if running.admin_token:
        saved = save_token(settings.data_dir, running.admin_token)
        say(f"admin token (shown once; also saved to {saved}):")
        say(f"  {running.admin_token}")
    elif token_file.exists():
        say(f"admin token: in {token_file}")
    flowapp = command_name()
    say("\nwhat to try (in another terminal, from this folder):")
    say(f"  export FLOWAPP_TOKEN=$(cat {shlex.quote(str(token_file))})")
    say(f"  curl -s {url}/healthz")
    say(f"  {flowapp} login {url} --token $FLOWAPP_TOKEN")
    auth = '-H "Authorization: Bearer $FLOWAPP_TOKEN"'
    body = """-H 'content-type: application/json' -d '{"message": "hello"}'"""
    for name in apps:
        say(f"  curl -s {auth} {body} '{url}/api/v1/apps/{name}/executions?wait=10'")
        say(f"""  {flowapp} invoke {name} --input '{{"message": "hi"}}' --wait 10""")
        say(f"  {flowapp} executions --app {name}")
        say(
            f"  git clone http://admin:$FLOWAPP_TOKEN@{settings.host}:{settings.port}/git/{name}.git"
        )
    say("  (Ctrl-C stops it)\n")
