"""Schemathesis against the real platform's ``/openapi.json`` (a `flowapp up` process with
real functions): no request may cause a server error. Bounded: examples and fuzzing
phases, a few examples an operation, a fixed seed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.platform_process import ROOT, flowapp_up

RUN = "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())"
TOOL_ERRORS = {"Runtime Error"}  # schemathesis reporting about itself, not the API


@pytest.mark.timeout(240)
def test_no_request_causes_a_server_error(tmp_path: Path) -> None:
    example = str(ROOT / "examples" / "append-display")
    with flowapp_up(tmp_path / "data", "--app", example) as platform:
        report = tmp_path / "report.json"
        command = [
            sys.executable, "-c", RUN, "run", f"{platform.url}/openapi.json",
            "--header", f"Authorization: Bearer {platform.token}",
            "--checks", "not_a_server_error",
            "--phases", "examples,fuzzing",
            "--max-examples", "4",
            "--seed", "20261126",
            "--workers", "2",
            "--exclude-path-regex", "^/api/v1/tokens/",
            "--request-timeout", "30",
            "--report", "json", "--report-json-path", str(report),
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=200, cwd=tmp_path)
    assert report.exists(), done.stdout + done.stderr
    result = json.loads(report.read_text())
    assert result["failures"] == [], done.stdout
    errors = [e for e in result["errors"] if e["title"] not in TOOL_ERRORS]
    assert errors == [], done.stdout
    assert result["test_cases"]["generated"] >= 50, result["test_cases"]
