"""`flowapp up --log-format json`: every line it logs is a JSON object, its functions'
lines (a Python and a Node.js host's) included, naming the execution, the task and the
trace (here a caller's, continued from the request's traceparent)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.e2e.observability.test_traces import CALLER_SPAN, CALLER_TRACE, TRACED
from tests.e2e.platform_process import flowapp_up


def test_every_line_is_json_and_function_lines_name_execution_task_and_trace(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    with (
        flowapp_up(data, "--app", str(TRACED), "--log-format", "json") as platform,
        platform.client() as api,
    ):
        answer = api.post(
            "/api/v1/apps/traced/executions",
            params={"wait": "30"},
            json={"name": "ada"},
            headers={"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"},
        )
        assert answer.status_code == 200, answer.text
        execution_id = answer.json()["id"]
        hooked = httpx.post(f"{platform.url}/hooks/traced", json={"name": "bo"}, timeout=30)
        assert hooked.status_code == 202, hooked.text
    log = (tmp_path / "data-up.log").read_text()
    entries = []
    for number, line in enumerate(log.splitlines(), 1):
        if not line.strip():
            continue
        entry = json.loads(line)  # fails on any line that is not JSON
        assert isinstance(entry, dict), f"line {number}: {line}"
        assert {"time", "level", "message"} <= set(entry), f"line {number}: {line}"
        entries.append(entry)
    assert any("flowapp is up on" in e["message"] for e in entries)  # the banner too

    def lines_of(function: str) -> list[dict]:
        return [
            e
            for e in entries
            if e.get("function") == function and e.get("execution_id") == execution_id
        ]

    (greet,) = lines_of("greet")  # Python: context.logger
    assert greet["message"] == "greeting ada"
    assert greet["task_reference"] == "/do/0/both/fork/branches/0/hello"
    assert greet["trace_id"] == CALLER_TRACE
    assert greet["instance"] and greet["stream"] == "stderr"
    (shout,) = lines_of("shout")  # Node.js: context.logger
    assert shout["message"].startswith(f"shouting under 00-{CALLER_TRACE}-")
    assert shout["task_reference"] == "/do/0/both/fork/branches/1/loud"
    assert shout["trace_id"] == CALLER_TRACE
    (flaky,) = lines_of("flaky")  # the failing first call
    assert flaky["level"] == "WARNING" and flaky["trace_id"] == CALLER_TRACE
    hook_lines = [
        e
        for e in entries
        if e.get("function") == "greet" and e.get("execution_id") not in (None, execution_id)
    ]
    assert hook_lines and all(len(e["trace_id"]) == 32 for e in hook_lines)
    assert all(e["trace_id"] != CALLER_TRACE for e in hook_lines)
