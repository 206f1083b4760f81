"""``flowapp --help`` and the command table load no database driver, web framework or
engine: each command imports what it uses when it runs."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "sqlalchemy",
    "fastapi",
    "uvicorn",
    "httpx",
    "jq",
    "rich",
    "flowapp.apps",
    "flowapp.engine",
    # flowapp.runtime itself may load: the decider defaults the help shows live in a module
    # of their own there (flowapp.runtime.deciders.settings); the engine must not.
    "flowapp.runtime.runtime",
    "flowapp.runtime.dispatch",
    "flowapp.runtime.deciders.pool",
    "flowapp.server",
    "flowapp.store",
)


def test_the_command_table_imports_nothing_heavy() -> None:
    probe = (
        "import json, sys, flowapp.cli.main; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(done.stdout) == []
