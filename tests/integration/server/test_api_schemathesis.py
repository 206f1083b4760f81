"""Schemathesis against the served ``/openapi.json``: no 5xx, and every response conforms
to the schema (status, content type, headers, body), with invalid requests rejected.

Bounded (examples, fuzzing and stateful phases, 6 examples an operation, a fixed seed:
about 250 requests, ~10 s) so it runs with the unit tests; the lead's CI runs it longer
against the real server. Excluded: ``DELETE /api/v1/tokens/{id}``, which would revoke the
token the run uses. ``POST /api/v1/validate`` is exempt from ``negative_data_rejection``:
it answers 200 with the problems of whatever document it gets, by design, and a YAML body
is text whatever "type" a generator meant it to have.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.integration.server.conftest import Served

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
)
# In the config file rather than `--checks`: checks named on the command line would win
# over the exemption of one operation.
CONFIG = (
    "[checks]\nenabled = false\n"
    + "".join(f"{check}.enabled = true\n" for check in CHECKS)
    + """
[[operations]]
include-path = "/api/v1/validate"
include-method = "POST"
checks.negative_data_rejection.enabled = false
"""
)
RUN = "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())"
# Errors schemathesis reports about itself (e.g. a Hypothesis internal), not the API.
TOOL_ERRORS = {"Runtime Error"}


def schemathesis(served: Served, tmp_path: Path) -> dict[str, object]:
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    report = tmp_path / "report.json"
    command = [
        sys.executable, "-c", RUN, "--config-file", str(config), "run",
        f"{served.url}/openapi.json",
        "--header", f"Authorization: Bearer {served.admin}",
        "--phases", "examples,fuzzing,stateful",
        "--max-examples", "6",
        "--seed", "20240501",
        "--workers", "2",
        "--exclude-path-regex", "^/api/v1/tokens/",
        "--request-timeout", "20",
        "--report", "json", "--report-json-path", str(report),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=110, cwd=tmp_path)
    assert report.exists(), done.stdout + done.stderr
    found: dict[str, object] = json.loads(report.read_text())
    found["output"] = done.stdout
    return found


def test_the_api_conforms_to_its_openapi_document(served: Served, tmp_path: Path) -> None:
    result = schemathesis(served, tmp_path)
    output = str(result["output"])
    assert result["failures"] == [], output
    errors = [e for e in result["errors"] if e["title"] not in TOOL_ERRORS]  # type: ignore[attr-defined]
    assert errors == [], output
    cases = result["test_cases"]
    assert 100 <= cases["generated"] <= 1000, cases  # type: ignore[index]
    print(f"schemathesis: {cases['generated']} test cases")  # type: ignore[index]
