"""The ``flowapp run`` / ``validate`` / ``executions`` contract, through real CLI processes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.cli import run_flowapp

ROOT = Path(__file__).resolve().parents[2]
HELLO = ROOT / "examples" / "hello" / "workflow.yaml"


def flowapp(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run_flowapp(*args, cwd=cwd)


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'flowapp.db'}"


def test_run_prints_the_output_as_json_and_exits_0(db: str) -> None:
    result = flowapp("run", str(HELLO), "--input", '{"name": "world"}', "--db", db)
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["greeting"] == "Hello, world!"
    assert output["mood"] == "cheerful"
    assert output["offers"] == [
        "Would you like tea?",
        "Would you like cake?",
        "Would you like a chat?",
    ]


def test_a_fault_prints_the_error_object_and_exits_1(tmp_path: Path, db: str) -> None:
    workflow = tmp_path / "fail.yaml"
    workflow.write_text(
        "document: {dsl: '1.0.3', namespace: test, name: fail, version: '1.0.0'}\n"
        "do:\n"
        "  - guarded:\n"
        "      try:\n"
        "        - boom:\n"
        "            raise:\n"
        "              error: {type: https://example.com/boom, status: 409, title: Boom}\n"
        "      catch:\n"
        "        errors: {with: {status: 500}}\n"
    )
    result = flowapp("run", str(workflow), "--db", db)
    assert result.returncode == 1
    assert json.loads(result.stdout) == {
        "type": "https://example.com/boom",
        "status": 409,
        "title": "Boom",
        "instance": "/do/0/guarded/try/0/boom",
    }


def test_an_invalid_definition_is_reported_with_its_location_and_exits_2(
    tmp_path: Path, db: str
) -> None:
    workflow = tmp_path / "bad.yaml"
    workflow.write_text(
        "document: {dsl: '1.0.3', namespace: test, name: bad, version: '1.0.0'}\n"
        "do:\n"
        "  - first:\n"
        "      set: {a: '${ .x ||| }'}\n"
        "  - second:\n"
        "      sett: {b: 2}\n"
    )
    for command in (("run", str(workflow), "--db", db), ("validate", str(workflow))):
        result = flowapp(*command)
        assert result.returncode == 2
        assert result.stdout == ""
        assert "Traceback" not in result.stderr
        assert f"{workflow}:5:5: /do/1/second: unknown task type" in result.stderr
        assert f"{workflow}:4:" in result.stderr and "does not compile" in result.stderr


def test_input_that_is_not_json_exits_2_with_its_location(db: str) -> None:
    result = flowapp("run", str(HELLO), "--input", '{"name": world}', "--db", db)
    assert result.returncode == 2
    assert "--input argument:1:10" in result.stderr and "not JSON" in result.stderr
    assert "Traceback" not in result.stderr


def test_input_from_a_file(tmp_path: Path, db: str) -> None:
    (tmp_path / "input.json").write_text('{"name": "Ada"}')
    result = flowapp("run", str(HELLO), "--input", f"@{tmp_path / 'input.json'}", "--db", db)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["mood"] == "polite"


def test_validate_accepts_a_valid_workflow() -> None:
    result = flowapp("validate", str(HELLO))
    assert result.returncode == 0 and "valid" in result.stdout


def test_executions_and_execution_show_what_ran(db: str) -> None:
    assert flowapp("run", str(HELLO), "--input", '{"name": "world"}', "--db", db).returncode == 0
    listing = json.loads(flowapp("executions", "--db", db, "--json").stdout)
    assert len(listing) == 1 and listing[0]["status"] == "completed"
    shown = flowapp("execution", listing[0]["id"], "--db", db, "--json")
    detail = json.loads(shown.stdout)
    names = [task["name"] for task in detail["tasks"]]
    assert names[:3] == ["greet", "chooseMood", "cheerful"]
    assert names.count("addOffer") == 3 and names[-1] == "addOffer"
    assert all(task["status"] == "completed" for task in detail["tasks"])
    first = detail["tasks"][0]
    assert first["input"] == {"name": "world"}
    assert first["output"]["greeting"] == "Hello, world!"
    assert first["started_at"] <= first["ended_at"]
    table = flowapp("execution", listing[0]["id"], "--db", db)
    assert "/do/0/greet" in table.stdout and "completed" in table.stdout


LISTENER = """\
document: {dsl: '1.0.3', namespace: test, name: orders, version: '1.0.0'}
do:
  - placed:
      listen:
        to:
          one:
            with: {type: com.example.order.placed}
  - shipped:
      listen:
        to:
          any:
            - with: {type: com.example.order.shipped, source: "https://warehouse.example"}
            - with: {type: com.example.order.lost}
"""


def event(kind: str, number: int) -> str:
    return json.dumps({"specversion": "1.0", "id": str(number), "source": "/t", "type": kind})


def test_a_workflow_waiting_for_events_nobody_offers_says_which_and_exits_1(
    tmp_path: Path, db: str
) -> None:
    workflow = tmp_path / "orders.yaml"
    workflow.write_text(LISTENER)
    none = flowapp("run", str(workflow), "--db", db)
    assert none.returncode == 1
    detail = json.loads(none.stdout)["detail"]
    assert detail == (
        "task /do/0/placed waits for an event with type=com.example.order.placed"
        " and no event is left to offer"
    )
    assert "--event" in none.stderr
    one = flowapp("run", str(workflow), "--db", db, "--event", event("com.example.order.placed", 1))
    assert one.returncode == 1
    assert json.loads(one.stdout)["detail"].startswith(
        "task /do/1/shipped waits for an event with source=https://warehouse.example,"
        " type=com.example.order.shipped or type=com.example.order.lost"
    )
    both = flowapp(
        "run", str(workflow), "--db", db,
        "--event", event("com.example.order.placed", 1),
        "--event", event("com.example.order.lost", 2),
    )  # fmt: skip
    assert both.returncode == 0, both.stderr
    statuses = [e["status"] for e in json.loads(flowapp("executions", "--db", db, "--json").stdout)]
    assert statuses == ["completed", "cancelled", "cancelled"]


def test_a_listener_that_also_waits_for_a_timer_or_its_own_emit_is_not_cancelled(
    tmp_path: Path, db: str
) -> None:
    timed = tmp_path / "timed.yaml"
    timed.write_text(
        LISTENER.replace("  - placed:\n", "  - placed:\n      timeout: {after: PT1S}\n")
    )
    timed_out = flowapp("run", str(timed), "--db", db)
    assert timed_out.returncode == 1
    assert json.loads(timed_out.stdout)["type"].endswith("/timeout")
    echo = tmp_path / "echo.yaml"
    echo.write_text(
        "document: {dsl: '1.0.3', namespace: test, name: echo, version: '1.0.0'}\n"
        "do:\n"
        "  - both:\n"
        "      fork:\n"
        "        branches:\n"
        "          - hear:\n"
        "              listen: {to: {one: {with: {type: com.example.ping}}}}\n"
        "          - later:\n"
        "              do:\n"
        "                - pause: {wait: PT0.5S}\n"
        "                - say:\n"
        "                    emit:\n"
        "                      event: {with: {type: com.example.ping, source: 'https://t.example'}}\n"
    )
    answered = flowapp("run", str(echo), "--db", db)
    assert answered.returncode == 0, answered.stdout + answered.stderr


def test_run_prints_the_execution_id_on_stderr(db: str) -> None:
    done = flowapp("run", str(HELLO), "--input", '{"name": "x"}', "--db", db)
    listed = json.loads(flowapp("executions", "--db", db, "--json").stdout)
    assert f"execution {listed[0]['id']} completed" in done.stderr


def test_a_workflow_file_without_document_gets_the_workflows_error(tmp_path: Path) -> None:
    workflow = tmp_path / "greet.yaml"
    workflow.write_text("do:\n  - greet: {set: {greeting: hi}}\n")
    done = flowapp("validate", str(workflow))
    assert done.returncode == 2
    assert done.stderr == f"{workflow}:1:1: /: missing required property 'document'\n"


def test_retry_on_the_local_store_runs_the_failed_task_again(tmp_path: Path, db: str) -> None:
    """``flowapp retry --db`` is another process than the ``run`` the execution faulted in:
    it takes the execution over instead of leaving it to the one that ended."""
    marker = tmp_path / "fixed"
    workflow = tmp_path / "flaky.yaml"
    workflow.write_text(
        "document: {dsl: '1.0.3', namespace: test, name: flaky, version: '1.0.0'}\n"
        "do:\n"
        "  - first: {set: {a: 1}}\n"
        "  - check:\n"
        "      run:\n"
        f"        shell: {{command: 'test -f {marker} && echo fixed'}}\n"
        "        return: stdout\n"
    )
    faulted = flowapp("run", str(workflow), "--db", db)
    assert faulted.returncode == 1 and json.loads(faulted.stdout)["instance"] == "/do/1/check"
    execution_id = json.loads(flowapp("executions", "--db", db, "--json").stdout)[0]["id"]
    marker.touch()

    retried = flowapp("retry", execution_id, "--db", db)

    assert retried.returncode == 0, retried.stderr
    assert json.loads(retried.stdout) == "fixed"
    again = flowapp("retry", execution_id, "--db", db)
    assert again.returncode == 2 and "is completed: it cannot be retried" in again.stderr
