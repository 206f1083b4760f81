"""The environment of sandboxed code: built from nothing, never copied from the server.

The server's environment may hold anything its operator exported (cloud credentials,
database URLs, the secrets of every app), so a sandboxed process starts from a short
fixed list, :func:`base_environment`, then gets, in this order (later wins):

1. the variables the host contract defines (``PORT``, ``HOST``, ``FLOWAPP_*``) and, for a
   function, the ``env`` its FlowApp declares (environments merged in); for ``run``
   processes, the task's ``environment``;
2. the app's secrets, from a :data:`SecretEnvironment` hook given by whoever holds them
   (the platform's secret store), called with the app's name.

``pass_env`` lets an operator forward more of the server's variables by name (a proxy
setting, say); nothing is forwarded by default besides the locale and time zone.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping

# Given an app's name, the variables holding its secrets that its code should see.
SecretEnvironment = Callable[[str], Mapping[str, str]]

SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"
SANDBOX_HOME = "/tmp"
FORWARDED = ("LANG", "LC_ALL", "LC_CTYPE", "TZ")


def base_environment(pass_env: Iterable[str] = ()) -> dict[str, str]:
    """What every sandboxed process starts with."""
    env = {
        "PATH": SANDBOX_PATH,
        "HOME": SANDBOX_HOME,
        "TMPDIR": SANDBOX_HOME,
        "LANG": "C.UTF-8",
    }
    for name in (*FORWARDED, *pass_env):
        value = os.environ.get(name)
        if value is not None:
            env[name] = value
    return env


def compose(
    base: Mapping[str, str],
    declared: Mapping[str, str],
    *,
    app: str,
    secrets: SecretEnvironment | None,
) -> dict[str, str]:
    env = {**base, **declared}
    if secrets is not None:
        env.update(secrets(app))
    return env
