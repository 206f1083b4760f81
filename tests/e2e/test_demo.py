"""``make demo`` as a newcomer meets it: it says what it does while it installs, its store
folder exists before ``flowapp run`` needs it, and the commands ``flowapp up`` prints
work as typed in the shell that started it, where ``flowapp`` is not on the PATH."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.platform_process import free_port

ROOT = Path(__file__).resolve().parents[2]
CONSOLE_SCRIPT = Path(sys.executable).with_name("flowapp")
APP = """\
apiVersion: flowapp.dev/v1alpha1
kind: FlowApp
metadata: {name: greeter}
spec:
  workflow:
    document: {dsl: '1.0.3', namespace: default, name: greeter, version: '1.0.0'}
    do:
      - greet: {set: {said: '${ .message }'}}
"""


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_demo_says_what_it_does_and_makes_its_store_folder_first() -> None:
    planned = subprocess.run(
        ["make", "-n", "-B", "demo"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert planned.returncode == 0, planned.stderr
    lines = planned.stdout.splitlines()
    install = next(i for i, line in enumerate(lines) if "pip install" in line and "-e '" in line)
    assert "--quiet" not in lines[install]  # pip lists each package as it goes
    assert any("echo" in line and "installing flowapp" in line for line in lines[:install])
    run = next(i for i, line in enumerate(lines) if "bin/flowapp run" in line)
    assert any("mkdir -p .flowapp/demo" in line for line in lines[:run])
    assert "--db sqlite:///.flowapp/demo/" in lines[run]


@pytest.mark.skipif(not CONSOLE_SCRIPT.exists(), reason="needs the flowapp console script")
def test_the_banner_commands_work_as_typed(tmp_path: Path) -> None:
    (tmp_path / "greeter").mkdir()
    (tmp_path / "greeter" / "flowapp.yaml").write_text(APP)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWAPP_")}
    env.update(FLOWAPP_HOME=str(tmp_path / "home"), PATH="/usr/bin:/bin", NO_COLOR="1")
    log = tmp_path / "up.log"
    command = [str(CONSOLE_SCRIPT), "up", "--port", str(port), "--data-dir", str(tmp_path / "data")]
    with log.open("wb") as output:
        up = subprocess.Popen(
            [*command, "--app", str(tmp_path / "greeter")],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 90
        while "(Ctrl-C stops it)" not in log.read_text() and time.monotonic() < deadline:
            assert up.poll() is None, log.read_text()
            time.sleep(0.2)
        printed = log.read_text()
        assert "alembic" not in printed and "Context impl" not in printed  # no migration noise
        tries = printed.split("what to try")[1].splitlines()[1:]
        commands = [
            line.strip() for line in tries if line.startswith("  ") and "Ctrl-C" not in line
        ]
        expected = (
            os.path.relpath(CONSOLE_SCRIPT, ROOT)
            if CONSOLE_SCRIPT.is_relative_to(ROOT)
            else str(CONSOLE_SCRIPT)
        )
        assert f"{expected} invoke greeter" in printed
        script = "set -e\n" + "\n".join(c for c in commands if not c.startswith("git clone"))
        done = subprocess.run(
            ["sh", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, script + "\n" + done.stdout + done.stderr
        assert '"said": "hi"' in done.stdout and "Logged in to" in done.stderr
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
    finally:
        os.killpg(up.pid, signal.SIGTERM)
        up.wait(30)
