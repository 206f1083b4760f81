"""Without a working bubblewrap, `flowapp up` (as root) falls back to a user per app, and
says so loudly at start-up: code still runs as that unprivileged user, with a scrubbed
environment, and file permissions keep it out of the data directory's files.

bubblewrap's absence is simulated with `--bwrap` naming a program that does not exist.
The data directory lives in a folder other users may traverse (the fallback needs that to
reach function folders, and warns when it is not so); the function is a `command` run by
the system's Python, which any user may execute.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowapp.sandbox.identity import app_user
from tests.e2e.platform_process import flowapp_up, wait_for_execution
from tests.servers import unavailable


@pytest.fixture(autouse=True)
def _needs_root_and_a_system_python() -> None:
    if os.geteuid() != 0:
        unavailable("the fallback runs code as another user: the server must be root")
    if not os.access("/usr/bin/python3", os.X_OK):
        unavailable("the fallback's function is run by the system's /usr/bin/python3")


MARKER = "server-env-marker-91c4e07d"
SERVER = """
import json, os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def attempt(path):
    try:
        with open(path) as file:
            return file.read()
    except OSError as exc:
        return f"{type(exc).__name__}: {exc.strerror}"


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.answer({"status": "ok"})

    def do_POST(self):
        data = json.loads(self.rfile.read(int(self.headers["content-length"])) or b"null")
        self.answer({"uid": os.getuid(), "token": attempt(data["token"]),
                     "marker": os.environ.get("FLOWAPP_TEST_MARKER")})

    def answer(self, value):
        body = json.dumps(value).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


ThreadingHTTPServer((os.environ["HOST"], int(os.environ["PORT"])), Handler).serve_forever()
"""


@pytest.fixture
def reachable_root() -> Iterator[Path]:
    """A folder under /tmp that other users may traverse (pytest's own are 0700)."""
    root = Path(tempfile.mkdtemp(prefix="flowapp-fallback-", dir="/tmp"))
    root.chmod(0o711)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def project(root: Path) -> Path:
    folder = root / "project"
    (folder / "functions" / "peek").mkdir(parents=True)
    (folder / "functions" / "peek" / "serve.py").write_text(SERVER)
    resource = {
        "apiVersion": "flowapp.dev/v1alpha1",
        "kind": "FlowApp",
        "metadata": {"name": "peeker"},
        "spec": {
            "functions": {
                "peek": {
                    "runtime": "command",
                    "path": "functions/peek",
                    "command": "/usr/bin/python3 serve.py",
                }
            },
            "workflow": {
                "document": {"dsl": "1.0.0", "namespace": "default", "name": "peeker",
                             "version": "1.0.0"},
                "do": [
                    {"peek": {"call": "peek", "with": {"token": "${ .token }"}}},
                    {"shell": {
                        "run": {"shell": {"command": 'id -u; cat "$T"; env',
                                          "environment": {"T": "${ $workflow.input.token }"}},
                                "return": "all"},
                        "output": {"as": "${ {shell: ., peek: $input} }"},
                    }},
                ],
            },
        },
    }  # fmt: skip
    (folder / "flowapp.yaml").write_text(json.dumps(resource))
    return folder


def test_without_bubblewrap_code_runs_as_the_apps_user_and_a_warning_says_so(
    reachable_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = reachable_root / "data"
    monkeypatch.setenv("FLOWAPP_TEST_MARKER", MARKER)
    up = flowapp_up(
        data,
        "--bwrap", "/nonexistent/bwrap",
        "--allow-run", "shell",
        "--app", str(project(reachable_root)),
    )  # fmt: skip
    with up as platform, platform.client() as api:
        token = str(data / "admin-token")
        started = api.post("/api/v1/apps/peeker/executions", json={"token": token})
        assert started.status_code == 202, started.text
        execution = wait_for_execution(api, started.json()["id"], timeout=60)

    log = (reachable_root / "data-up.log").read_text()
    assert "SANDBOX FALLBACK: bubblewrap does not work" in log
    assert "/nonexistent/bwrap is not an executable file" in log
    assert execution["status"] == "completed", execution
    user = app_user("peeker").uid
    peek, shell = execution["output"]["peek"], execution["output"]["shell"]
    assert peek == {"uid": user, "token": "PermissionError: Permission denied", "marker": None}
    assert shell["stdout"].splitlines()[0] == str(user)
    assert "Permission denied" in shell["stderr"]
    assert MARKER not in shell["stdout"] and platform.token not in repr(execution)
