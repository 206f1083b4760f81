"""Secrets end to end: what a workflow gets through ``$secrets`` on ``flowapp run`` and on
``flowapp up``, and the spec's authorization error when a declared one was not supplied."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.e2e.platform_process import create_and_deploy, flowapp_up

ROOT = Path(__file__).resolve().parents[2]
AUTHORIZATION = "https://serverlessworkflow.io/spec/1.0.0/errors/authorization"

READS_A_SECRET = """\
document: {dsl: '1.0.3', namespace: test, name: NAME, version: '1.0.0'}
use:
  secrets: [apiKey]
do:
  - useIt:
      set:
        header: ${ "Bearer " + $secrets.apiKey }
"""


def flowapp(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowapp.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd or ROOT,
    )


def test_flowapp_run_faults_with_403_when_a_declared_secret_is_not_supplied(
    tmp_path: Path,
) -> None:
    workflow = tmp_path / "reads.yaml"
    workflow.write_text(READS_A_SECRET.replace("NAME", "reads"))
    db = f"sqlite:///{tmp_path / 'run.db'}"
    missing = flowapp("run", str(workflow), "--db", db)
    assert missing.returncode == 1, missing.stderr
    error = json.loads(missing.stdout)
    assert error["type"] == AUTHORIZATION and error["status"] == 403
    assert error["instance"] == "/do/0/useIt"
    assert "`apiKey`" in error["detail"] and "no value was supplied" in error["detail"]

    given = flowapp("run", str(workflow), "--db", db, "--secret", "apiKey=k-123")
    assert given.returncode == 0, given.stdout + given.stderr
    assert json.loads(given.stdout) == {"header": "Bearer k-123"}


def test_flowapp_up_faults_with_403_when_a_declared_secret_is_not_supplied(
    tmp_path: Path,
) -> None:
    with flowapp_up(tmp_path / "data") as platform, platform.client() as api:
        create_and_deploy(api, READS_A_SECRET.replace("NAME", "reads"), "reads")
        answer = api.post("/api/v1/apps/reads/executions?wait=30", json={})
        assert answer.status_code == 403, answer.text  # a faulted execution's own status
        body = answer.json()
        assert body["status"] == "faulted", body
        assert body["error"]["type"] == AUTHORIZATION and body["error"]["status"] == 403
        assert "`apiKey`" in body["error"]["detail"]
