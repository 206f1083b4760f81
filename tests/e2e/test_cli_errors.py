"""The CLI never prints a traceback: every error is a message saying what and what to do,
with the documented exit code (``flowapp.cli.failures``); ``--debug`` shows the traceback.
Real ``flowapp`` processes, each with its own ``FLOWAPP_HOME``."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli import Flowapp, isolated_environment, run_flowapp
from tests.e2e.platform_process import free_port
from tests.interrupts import ctrl_c_reaches_it

ROOT = Path(__file__).resolve().parents[2]
HELLO = ROOT / "examples" / "hello" / "workflow.yaml"


@pytest.fixture
def flowapp(tmp_path: Path) -> Flowapp:
    def run(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return run_flowapp(
            *args, env=isolated_environment(tmp_path / "home", **extra), cwd=tmp_path
        )

    return run


def test_an_unreachable_database_says_so_and_exits_3(flowapp: Flowapp) -> None:
    nowhere = f"postgresql://nobody@127.0.0.1:{free_port()}/nothing"
    plain = flowapp("executions", "--db", nowhere)
    assert plain.returncode == 3
    assert "Error: cannot reach the database" in plain.stderr
    assert "check that the database is running" in plain.stderr
    assert "Traceback" not in plain.stderr
    debug = flowapp("--debug", "executions", "--db", nowhere)
    assert debug.returncode == 3
    assert "Traceback (most recent call last)" in debug.stderr
    assert "Error: cannot reach the database" in debug.stderr


def test_an_unsupported_store_scheme_is_invalid_input(flowapp: Flowapp) -> None:
    done = flowapp("run", str(HELLO), "--db", "mysql://root@localhost/flowapp")
    assert done.returncode == 2
    assert "Error: --db mysql://root@localhost/flowapp: flowapp cannot store in `mysql`" in (
        done.stderr
    )
    assert "postgresql://" in done.stderr and "Traceback" not in done.stderr


def test_a_store_in_a_missing_folder_is_refused_and_no_folder_is_made(
    flowapp: Flowapp, tmp_path: Path
) -> None:
    missing = tmp_path / "not" / "there"
    done = flowapp("run", str(HELLO), "--db", f"sqlite:///{missing / 'flowapp.db'}")
    assert done.returncode == 2
    assert f"the folder {missing} does not exist" in done.stderr
    assert not (tmp_path / "not").exists()
    from_env = flowapp("executions", FLOWAPP_DB=f"sqlite:///{missing / 'x.db'}")
    assert from_env.returncode == 2 and "$FLOWAPP_DB" in from_env.stderr


def test_a_home_that_is_a_file_is_an_environment_error(flowapp: Flowapp, tmp_path: Path) -> None:
    (tmp_path / "home").write_text("not a folder")
    done = flowapp("run", str(HELLO), "--input", '{"name": "x"}')
    assert done.returncode == 3
    assert str(tmp_path / "home") in done.stderr and "Traceback" not in done.stderr


def test_version_and_short_help(flowapp: Flowapp) -> None:
    version, short, long = (flowapp("--version"), flowapp("-h"), flowapp("run", "-h"))
    assert version.returncode == 0 and version.stdout.startswith("flowapp 0.")
    assert (
        short.returncode == 0 and "Exit codes: 0 success, 1 the execution faulted" in short.stdout
    )
    assert long.returncode == 0 and "--input" in long.stdout


def test_shell_completion_script_and_answers(flowapp: Flowapp) -> None:
    script = flowapp("completion", "bash")
    assert script.returncode == 0
    assert "_FLOWAPP_COMPLETE=complete_bash" in script.stdout
    asked = flowapp(_FLOWAPP_COMPLETE="complete_bash", COMP_WORDS="flowapp re", COMP_CWORD="1")
    assert asked.stdout.split() == ["retry", "rerun", "resume"]
    options = flowapp(
        _FLOWAPP_COMPLETE="complete_bash", COMP_WORDS="flowapp logs shop --fo", COMP_CWORD="3"
    )
    assert options.stdout.split() == ["--follow"]


def test_ctrl_c_exits_130_without_a_traceback(tmp_path: Path) -> None:
    workflow = tmp_path / "nap.yaml"
    workflow.write_text(
        "document: {dsl: '1.0.3', namespace: t, name: nap, version: '1.0.0'}\n"
        "do:\n  - nap: {wait: PT60S}\n"
    )
    store = f"sqlite:///{tmp_path / 'flowapp.db'}"
    process = subprocess.Popen(
        [sys.executable, "-m", "flowapp.cli.main", "run", str(workflow), "--db", store],
        preexec_fn=ctrl_c_reaches_it,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=isolated_environment(tmp_path / "home"),
    )
    deadline = time.monotonic() + 30
    while not (tmp_path / "flowapp.db").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # the execution has started waiting
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130
    assert "Traceback" not in stderr
