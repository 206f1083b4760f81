"""Secrets end to end: what a workflow gets through ``$secrets`` on ``flowapp run`` and on
``flowapp up``, and the spec's authorization error when a declared one was not supplied."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

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


READS_THREE = """\
document: {dsl: '1.0.3', namespace: test, name: NAME, version: '1.0.0'}
use:
  secrets: [fromFile, fromEnv, fromStore]
do:
  - read:
      set:
        file: ${ $secrets.fromFile }
        env: ${ $secrets.fromEnv }
        store: ${ $secrets.fromStore[0:6] }
        storeLength: ${ $secrets.fromStore | length }
"""
STORED_VALUE = "stored-c2VjcmV0LXZhbHVl-0001"


def files_holding(folder: Path, needle: bytes) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_flowapp_up_gives_each_app_its_secrets_from_file_environment_and_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets_file = tmp_path / "secrets.yaml"
    secrets_file.write_text("shop:\n  fromFile: file-value\nother:\n  fromFile: other-file\n")
    monkeypatch.setenv("FLOWAPP_SECRETS_SHOP", '{"fromEnv": "env-value"}')
    data = tmp_path / "data"
    with (
        flowapp_up(data, "--secrets-file", str(secrets_file)) as platform,
        platform.client() as api,
    ):
        create_and_deploy(api, READS_THREE.replace("NAME", "shop"), "shop")
        create_and_deploy(api, READS_THREE.replace("NAME", "other"), "other")
        server = ("--url", platform.url, "--token", platform.token)
        set_value = subprocess.run(
            [sys.executable, "-m", "flowapp.cli.main", "secret", "set", "shop", "fromStore",
             *server],
            input=STORED_VALUE + "\n", capture_output=True, text=True, timeout=60, cwd=ROOT,
        )  # fmt: skip
        assert set_value.returncode == 0, set_value.stderr
        assert STORED_VALUE not in set_value.stdout + set_value.stderr

        done = api.post("/api/v1/apps/shop/executions?wait=30", json={})
        assert done.status_code == 200, done.text
        assert done.json()["output"] == {
            "file": "file-value",
            "env": "env-value",
            "store": STORED_VALUE[:6],
            "storeLength": len(STORED_VALUE),
        }
        # Another app sees neither shop's environment nor its store: reading them is 403.
        other = api.post("/api/v1/apps/other/executions?wait=30", json={})
        assert other.status_code == 403, other.text
        assert "`fromEnv`" in other.json()["error"]["detail"]

        listed = flowapp("secret", "list", "shop", *server)
        assert listed.returncode == 0, listed.stderr
        assert listed.stdout.split("\n")[:3] == [
            "fromEnv\tenvironment",
            "fromFile\tfile",
            "fromStore\tstore",
        ]
        assert STORED_VALUE not in listed.stdout
        assert files_holding(data, STORED_VALUE.encode()) == []
    assert files_holding(data, STORED_VALUE.encode()) == []  # WAL checkpointed at stop


def test_flowapp_up_refuses_a_bad_secrets_file_before_starting(tmp_path: Path) -> None:
    bad = tmp_path / "secrets.yaml"
    bad.write_text("shop: [not, an, object]\n")
    result = flowapp("up", "--data-dir", str(tmp_path / "data"), "--secrets-file", str(bad))
    assert result.returncode == 2
    assert "secrets.yaml: /shop: an app's secrets are an object" in result.stderr
