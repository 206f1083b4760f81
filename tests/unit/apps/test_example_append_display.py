"""``examples/append-display``, the design's own example: it loads, and its tests pass."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flowapp.apps import load_app

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "append-display"


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def test_the_example_loads() -> None:
    app = load_app(EXAMPLE)
    assert app.name == "append-display"
    assert {name: spec.runtime for name, spec in app.functions.items()} == {
        "append": "python",
        "display": "node",
    }
    assert [(t.name, t.kind) for t in app.triggers] == [
        ("orders", "nats"),
        ("nightly", "cron"),
        ("api", "http"),
    ]
    assert app.triggers[0].source.subject == "orders.created"
    assert app.triggers[2].source.path == "/hooks/orders"
    assert (app.delivery.retry, app.delivery.backoff_delay) == (3, 0.2)
    assert [next(iter(task)) for task in app.workflow["do"]] == ["append", "display"]


def test_the_append_unit_tests_pass() -> None:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    result = run(command, EXAMPLE / "functions" / "append")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
def test_the_display_unit_tests_pass() -> None:
    result = run(["node", "--test"], EXAMPLE / "functions" / "display")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# pass 3" in result.stdout
