"""``flowapp dev`` as a project is edited: YAML changes are validated then deployed (a
broken one is reported and the running version stays), and a function that fails to
restart is reported with its author's own error first, for Python and Node.js. A real
``flowapp dev`` process; the project is the scaffold's."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from flowapp.apps.scaffold import init_project, new_function
from tests.e2e.platform_process import free_port

NEEDS_NODE = shutil.which("node") is not None


@dataclass
class Dev:
    project: Path
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text()

    def wait_for(self, text: str, *, after: int = 0, timeout: float = 60) -> str:
        """The output once ``text`` appears in it past offset ``after``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            printed = self.output()
            if text in printed[after:]:
                return printed
            time.sleep(0.2)
        raise AssertionError(f"no {text!r} in:\n{self.output()[after:]}")

    def run(self, data: object) -> object:
        token = (self.project / ".flowapp" / "admin-token").read_text().strip()
        answer = httpx.post(
            f"{self.url}/api/v1/apps/shop/executions",
            params={"wait": 30},
            json=data,
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["output"]

    def edit(self, relative: str, text: str) -> int:
        """Write a file; the offset of the output from which its effects are printed."""
        offset = len(self.output())
        path = self.project / relative
        path.write_text(text)
        return offset


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[Dev]:
    project = init_project(tmp_path / "shop", "shop")
    if NEEDS_NODE:
        new_function(project, "shout", "node")
    with running_dev(project, tmp_path) as running:
        yield running


@contextlib.contextmanager
def running_dev(project: Path, tmp_path: Path) -> Iterator[Dev]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWAPP_")}
    env["FLOWAPP_HOME"] = str(tmp_path / "home")
    log = tmp_path / "dev.log"
    command = [sys.executable, "-m", "flowapp.cli.main", "dev", str(project), "--port", str(port)]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    running = Dev(project, f"http://127.0.0.1:{port}", log)
    try:
        running.wait_for("(Ctrl-C stops it)", timeout=90)
        yield running
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)


def test_yaml_changes_are_validated_then_deployed(dev: Dev) -> None:
    assert "alembic" not in dev.output() and "Context impl" not in dev.output()
    assert dev.run({"n": 1}) == {"function": "hello", "input": {"n": 1}}
    workflow = (dev.project / "workflow.yaml").read_text()

    changed = workflow + "  - after:\n      set: {changed: true}\n"
    at = dev.edit("workflow.yaml", changed)
    dev.wait_for("shop-00002 serves 100% of shop", after=at)
    assert dev.run({"n": 2}) == {"changed": True}

    at = dev.edit("workflow.yaml", changed.replace("set: {changed", "sett: {changed"))
    printed = dev.wait_for("the running version stays", after=at)
    assert "  workflow.yaml:" in printed[at:] and "/do/1/after" in printed[at:]
    time.sleep(1.5)
    assert dev.run({"n": 3}) == {"changed": True}  # the previous version still serves

    code = dev.project / "functions" / "hello" / "main.py"
    at = dev.edit("workflow.yaml", workflow)
    dev.wait_for("shop-00003 serves 100% of shop", after=at)
    text = code.read_text().replace('"input": data}', '"input": data, "env": GREET}')
    code.write_text(
        text.replace(
            "def handle(", "GREET = __import__('os').environ.get('GREET')\n\n\ndef handle("
        )
    )
    dev.wait_for("hello: restarted", after=at)
    at = dev.edit("config/dev.yaml", "functions:\n  hello: {env: {GREET: hi}}\n")
    dev.wait_for("shop-00004 serves 100% of shop", after=at)
    assert dev.run({"n": 4}) == {"function": "hello", "input": {"n": 4}, "env": "hi"}


def test_a_function_that_fails_to_restart_shows_its_authors_error_first(dev: Dev) -> None:
    at = dev.edit("functions/hello/main.py", "def handle(data, context)\n    return data\n")
    printed = dev.wait_for("hello failed to restart", after=at)
    report = printed[printed.index("hello failed to restart", at) :].splitlines()
    assert (
        report[0] == "hello failed to restart: functions/hello/main.py:1: SyntaxError: expected ':'"
    )
    assert report[1].strip() == "def handle(data, context)"
    at = dev.edit(
        "functions/hello/main.py", "def handle(data, context):\n    return {'ok': data}\n"
    )
    dev.wait_for("hello: restarted", after=at)
    assert dev.run({"n": 1}) == {"ok": {"n": 1}}
    if not NEEDS_NODE:
        return
    broken = "exports.handle = async (data) => {\n  return data +;\n};\n"
    at = dev.edit("functions/shout/index.js", broken)
    printed = dev.wait_for("shout failed to restart", after=at)
    report = printed[printed.index("shout failed to restart", at) :].splitlines()
    expected = (
        "shout failed to restart: functions/shout/index.js:2: SyntaxError: Unexpected token ';'"
    )
    assert report[0] == expected
    assert report[1].strip() == "return data +;"
    assert "Traceback" not in json.dumps(report[:3])


@pytest.mark.skipif(shutil.which("javac") is None, reason="needs a JDK")
def test_a_java_function_is_rebuilt_on_change_and_a_compile_error_is_javacs(
    tmp_path: Path,
) -> None:
    project = init_project(tmp_path / "shop", "shop", runtime="java")
    with running_dev(project, tmp_path) as dev:
        assert dev.run({"n": 1}) == {"function": "hello", "input": {"n": 1}}
        source = "functions/hello/src/main/java/Hello.java"
        text = (project / source).read_text()

        at = dev.edit(
            source, text.replace('output.put("input", data);', 'output.put("input", data)')
        )
        printed = dev.wait_for("hello failed to restart", after=at)
        report = printed[printed.index("hello failed to restart", at) :]
        line = next(n for n, t in enumerate(text.splitlines(), 1) if 'put("input"' in t)
        assert f"src/main/java/Hello.java:{line}: error: ';' expected" in report

        at = dev.edit(source, text.replace('"function", "hello"', '"function", "hello again"'))
        dev.wait_for("hello: restarted", after=at)
        assert dev.run({"n": 3}) == {"function": "hello again", "input": {"n": 3}}
