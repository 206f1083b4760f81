"""The README's five-minute tour, as a new user runs it: its workflow is taken from the
README itself and every output the README shows is checked, so the tour cannot drift
from what flowapp does."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.cli import isolated_environment, run_flowapp

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def block(after: str, language: str) -> str:
    """The first fenced block of ``language`` after the text ``after``."""
    start = README.index(after)
    found = re.compile(rf"```{language}\n(.*?)```", re.S).search(README, start)
    assert found is not None, f"no ```{language} block after {after!r}"
    return found.group(1)


@pytest.fixture
def tour(tmp_path: Path) -> Path:
    (tmp_path / "greet.yaml").write_text(block("### 1. Write a workflow", "yaml"))
    return tmp_path


def flowapp(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_flowapp(*args, cwd=cwd, env=isolated_environment(cwd / "home"))


def test_validate_as_the_readme_shows(tour: Path) -> None:
    valid = flowapp("validate", "greet.yaml", cwd=tour)
    assert valid.returncode == 0 and valid.stdout.strip() == "greet.yaml: valid workflow"
    text = (tour / "greet.yaml").read_text()
    broken = text.replace('${ "Hello, " + .name + "!" }', '${ "Hello, " + }')
    broken = broken.replace(
        "      set:\n        message: ${ .message", "      sett:\n        message: ${ .message"
    )
    (tour / "greet.yaml").write_text(broken)
    invalid = flowapp("validate", "greet.yaml", cwd=tour)
    assert invalid.returncode == 2
    assert invalid.stderr == block("and `set` been misspelled `sett`", "")


def test_run_and_trace_as_the_readme_shows(tour: Path) -> None:
    loud = flowapp("run", "greet.yaml", "--input", '{"name": "Ada", "loud": true}', cwd=tour)
    assert loud.returncode == 0, loud.stderr
    assert json.loads(loud.stdout) == json.loads(block("### 3. Run it", "json"))
    quiet = flowapp("run", "greet.yaml", "--input", '{"name": "Ada"}', cwd=tour)
    assert json.loads(quiet.stdout) == {"message": "Hello, Ada!"}
    execution_id = quiet.stderr.split("execution ")[1].split()[0]
    trace = json.loads(flowapp("execution", execution_id[:20], "--json", cwd=tour).stdout)
    assert [(t["name"], t["status"]) for t in trace["tasks"]] == [
        ("greet", "completed"),
        ("shout", "skipped"),
    ]
    listed = flowapp("executions", cwd=tour)
    assert listed.returncode == 0 and execution_id in listed.stdout
    assert f"Executions in the local store sqlite:///{tour / 'home' / 'flowapp.db'}" in (
        listed.stdout
    )
