"""`flowapp run` runs one's own code unconfined, and in the sandbox when asked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flowapp.runtime.effects.process import NO_APP
from flowapp.sandbox.identity import app_user
from tests.sandboxing import require_root_and_bwrap

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = {
    "document": {"dsl": "1.0.0", "namespace": "default", "name": "who", "version": "1.0.0"},
    "do": [
        {
            "who": {
                "run": {
                    "shell": {
                        "command": 'echo "$(id -u) $(printenv SECRET_OF_THE_SHELL || echo hidden)"'
                    }
                },
            }
        }
    ],
}


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    workflow = tmp_path / "workflow.yaml"
    workflow.write_text(json.dumps(WORKFLOW))
    command = [sys.executable, "-m", "flowapp.cli.main", "run", str(workflow), *args]
    command += ["--db", f"sqlite:///{tmp_path / 'flowapp.db'}"]
    env = {"PATH": "/usr/bin:/bin", "SECRET_OF_THE_SHELL": "visible", "HOME": str(tmp_path)}
    return subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=ROOT, env=env)


@pytest.fixture(autouse=True)
def _needs_the_sandbox() -> None:
    require_root_and_bwrap()


def test_run_allows_shell_and_leaves_it_unconfined_by_default(tmp_path: Path) -> None:
    result = run(tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == "0 visible"


def test_run_with_sandbox_confines_the_shell(tmp_path: Path) -> None:
    result = run(tmp_path, "--sandbox")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == f"{app_user(NO_APP).uid} hidden"
