"""The sandbox of untrusted code: functions, their dependency builds, ``run: shell`` and
``run: script`` processes.

:func:`open_sandbox` picks the mode at start-up (``choose.py``); :meth:`Sandbox.spawn`
turns a command into a confined :class:`Spawn` (``sandbox.py``): bubblewrap namespaces
(``bwrap.py``), a user per app (``identity.py``), a scrubbed environment
(``environment.py``) and resource limits (``limits.py``). ``docs/security.md`` says what
it isolates and what it does not.
"""

from flowapp.sandbox.choose import SandboxUnavailable, open_sandbox
from flowapp.sandbox.environment import SecretEnvironment
from flowapp.sandbox.limits import Limits, stopped_by
from flowapp.sandbox.sandbox import Sandbox, SandboxSettings, Spawn, code_pids, run_blocking

__all__ = [
    "Limits",
    "Sandbox",
    "SandboxSettings",
    "SandboxUnavailable",
    "SecretEnvironment",
    "Spawn",
    "code_pids",
    "open_sandbox",
    "run_blocking",
    "stopped_by",
]
