"""Bare JSON values through real CLI processes on SQLite: a workflow whose input and
output are plain numbers runs, is listed and shown (these crashed the decoder when the
store's JSON columns had numeric affinity)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.test_cli_run import flowapp

DOUBLE = """\
document: {dsl: '1.0.3', namespace: test, name: double, version: '1.0.0'}
do:
  - double:
      set: '${ . * 2 }'
"""


def test_a_bare_number_in_and_out_runs_and_is_shown(tmp_path: Path) -> None:
    workflow = tmp_path / "double.yaml"
    workflow.write_text(DOUBLE)
    db = f"sqlite:///{tmp_path / 'flowapp.db'}"
    for given, expected in (("21", 42), ("0.75", 1.5), ("1.0", 2.0)):
        ran = flowapp("run", str(workflow), "--input", given, "--db", db)
        assert ran.returncode == 0, ran.stderr
        assert json.loads(ran.stdout) == expected
    listed = flowapp("executions", "--db", db, "--json")
    assert listed.returncode == 0, listed.stderr
    executions = json.loads(listed.stdout)
    shown = [flowapp("execution", e["id"], "--db", db, "--json") for e in executions]
    assert all(result.returncode == 0 for result in shown), [r.stderr for r in shown]
    bodies = [json.loads(result.stdout) for result in shown]
    assert {(body["input"], body["output"]) for body in bodies} == {(21, 42), (0.75, 1.5), (1.0, 2)}
    inputs = sorted(type(body["input"]).__name__ for body in bodies)
    assert inputs == ["float", "float", "int"]  # the input 1.0 is stored as 1.0, not 1
