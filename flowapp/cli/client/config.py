"""Where the CLI finds the server: options, environment, or the saved login.

``flowapp login URL --token TOKEN`` saves ``{"url", "token"}`` in
``$FLOWAPP_HOME/config.json`` (``~/.flowapp``), readable by its owner only (0600: it
holds a secret). Each command may override either with ``--url``/``--token`` or
``FLOWAPP_URL``/``FLOWAPP_TOKEN``; the saved token is used only with the saved URL, so a
token is never sent to a server it was not issued for.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from flowapp.cli.failures import EnvironmentProblem, InvalidInput
from flowapp.cli.settings import flowapp_home

CONFIG_FILE = "config.json"


class LocalProblem(InvalidInput):
    """Something wrong with what was given on this side (a URL, an input, a file)."""


@dataclass(frozen=True, slots=True)
class Login:
    url: str
    token: str | None


def config_path() -> Path:
    return flowapp_home() / CONFIG_FILE


def normalize_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise LocalProblem(f"{url!r} is not an http(s) URL such as http://127.0.0.1:8080")
    return url.strip().rstrip("/")


def saved_login() -> Login | None:
    path = config_path()
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise EnvironmentProblem(
            f"cannot read {path}: {exc}", hint="fix it, or run `flowapp login` again"
        ) from None
    url = data.get("url") if isinstance(data, dict) else None
    if not isinstance(url, str):
        return None
    token = data.get("token")
    return Login(url, token if isinstance(token, str) else None)


def save_login(login: Login) -> Path:
    """Write the config file with mode 0600 from the start (never readable by others)."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump({"url": login.url, "token": login.token}, file, indent=2)
    path.chmod(0o600)  # an existing file keeps its mode through O_CREAT
    return path


def resolve(url: str | None, token: str | None) -> Login | None:
    """The server to talk to, or None when nothing names one."""
    saved = saved_login()
    if url is None:
        if saved is None:
            return None
        return Login(saved.url, token or saved.token)
    url = normalize_url(url)
    if token is None and saved is not None and saved.url == url:
        token = saved.token
    return Login(url, token)


def remote_configured(url: str | None) -> bool:
    """Whether a command should talk to a server rather than a local database."""
    return url is not None or saved_login() is not None
