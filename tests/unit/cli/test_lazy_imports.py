"""``flowapp --help`` and the command table load no database driver, web framework or
engine: each command imports what it uses when it runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).parents[3] / "examples"
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


def _loaded_after(argv: list[str], names: tuple[str, ...], cwd: Path) -> list[str]:
    """The modules of ``names`` that running ``flowapp ARGV`` in this interpreter loaded."""
    probe = (
        "import json, runpy, sys\n"
        f"sys.argv = ['flowapp', *{argv!r}]\n"
        "try:\n"
        "    runpy.run_module('flowapp.cli.main', run_name='__main__')\n"
        "except SystemExit as stop:\n"
        "    assert not stop.code, stop.code\n"
        f"print(json.dumps([m for m in {names!r} if m in sys.modules]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=cwd,
        env={**os.environ, "FLOWAPP_HOME": str(cwd / "home")},
    )
    return list(json.loads(done.stdout.splitlines()[-1]))


def test_validate_of_a_workflow_loads_no_client_server_store_or_interpreter(
    tmp_path: Path,
) -> None:
    heavy = ("sqlalchemy", "aiohttp", "httpx", "fastapi", "rich", "cloudevents", "nats")
    heavy += ("flowapp.triggers.cron",)
    assert (
        _loaded_after(["validate", str(EXAMPLES / "hello" / "workflow.yaml")], heavy, tmp_path)
        == []
    )


def test_validate_of_a_flowapp_loads_the_clients_of_its_trigger_kinds_only(tmp_path: Path) -> None:
    """append-display has a nats, a cron and an http trigger: each item is parsed by its
    kind's parser, which lives beside that kind's client."""
    brokers = ("nats", "redis", "aiokafka", "aio_pika", "aiomqtt", "croniter")
    found = _loaded_after(["validate", str(EXAMPLES / "append-display")], brokers, tmp_path)
    assert found == ["nats", "croniter"]


def test_run_of_a_set_workflow_on_a_current_store_loads_no_migrations_or_http_client(
    tmp_path: Path,
) -> None:
    """The second run finds the store's schema current with one query (no Alembic), and a
    workflow that calls nothing over HTTP and has no functions loads no HTTP client."""
    workflow = tmp_path / "one.yaml"
    workflow.write_text(
        "document: {dsl: '1.0.3', namespace: test, name: one, version: '1.0.0'}\n"
        "do:\n  - only: {set: {done: true}}\n"
    )
    run = ["run", str(workflow), "--db", f"sqlite:///{tmp_path / 'flowapp.db'}"]
    heavy = ("alembic", "aiohttp", "httpx", "fastapi", "flowapp.functions.supervisor")
    first = _loaded_after(run, heavy, tmp_path)
    assert first == ["alembic"]  # a new store is migrated
    assert _loaded_after(run, heavy, tmp_path) == []
