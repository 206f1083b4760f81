"""`--env`: config/<environment>.yaml applied by `flowapp validate`, `run` and `up`, through
real processes and a real Python function that reads its environment variables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.platform_process import flowapp_up
from tests.e2e.test_cli_run import flowapp

FLOWAPP_YAML = """\
apiVersion: flowapp.dev/v1alpha1
kind: FlowApp
metadata: {name: greeter}
spec:
  functions:
    greet: {runtime: python, path: functions/greet}
  workflow:
    document: {dsl: '1.0.3', namespace: e2e, name: greeter, version: '1.0.0'}
    do:
      - greet: {call: greet}
"""
GREET = """\
import os


def handle(data, context):
    return {"greeting": f"{os.environ.get('GREETING', 'hello')} {data['name']}"}
"""
PROD = "functions:\n  greet:\n    env: {GREETING: good day}\n"
BROKEN = "functions:\n  greet:\n    scale: {min: -1}\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "greeter"
    (folder / "functions" / "greet").mkdir(parents=True)
    (folder / "config").mkdir()
    (folder / "flowapp.yaml").write_text(FLOWAPP_YAML)
    (folder / "functions" / "greet" / "main.py").write_text(GREET)
    (folder / "config" / "prod.yaml").write_text(PROD)
    (folder / "config" / "broken.yaml").write_text(BROKEN)
    return folder


def test_run_applies_the_environment_asked_for(project: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'run.db'}"
    plain = flowapp("run", str(project), "--input", '{"name": "Ada"}', "--db", db)
    assert plain.returncode == 0, plain.stderr
    assert json.loads(plain.stdout) == {"greeting": "hello Ada"}
    prod = flowapp("run", str(project), "--env", "prod", "--input", '{"name": "Ada"}', "--db", db)
    assert prod.returncode == 0, prod.stderr
    assert json.loads(prod.stdout) == {"greeting": "good day Ada"}


def test_validate_locates_problems_in_the_config_file(project: Path) -> None:
    assert flowapp("validate", str(project), "--env", "prod").returncode == 0
    broken = flowapp("validate", str(project), "--env", "broken")
    assert broken.returncode == 2
    assert f"{project / 'config' / 'broken.yaml'}:3:" in broken.stderr
    assert "/functions/greet/scale/min" in broken.stderr
    missing = flowapp("validate", str(project), "--env", "staging")
    assert missing.returncode == 2
    assert "config/staging.yaml" in missing.stderr and "has no config file" in missing.stderr


def test_a_revision_keeps_the_environment_it_was_deployed_for(
    project: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    deployed = flowapp_up(data, "--env", "prod", "--app", str(project))
    with deployed as platform, platform.client() as api:
        done = api.post("/api/v1/apps/greeter/executions?wait=30", json={"name": "Ada"})
        assert done.status_code == 200, done.text
        assert done.json()["output"] == {"greeting": "good day Ada"}
    with flowapp_up(data) as platform, platform.client() as api:  # restarted without --env
        done = api.post("/api/v1/apps/greeter/executions?wait=30", json={"name": "Bo"})
        assert done.status_code == 200, done.text
        assert done.json()["output"] == {"greeting": "good day Bo"}
