"""``run: shell`` and ``run: script`` processes: real processes, unconfined and sandboxed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from flowapp.engine.commands import RunProcess
from flowapp.runtime.effects.base import EffectError
from flowapp.runtime.effects.process import ProcessEffects, _kill
from flowapp.sandbox import Limits, SandboxSettings, open_sandbox
from flowapp.sandbox.identity import app_user
from tests.sandboxing import require_root_and_bwrap


def shell(code: str, **fields: Any) -> RunProcess:
    values: dict[str, Any] = {"language": None, "arguments": [], "environment": {}, "stdin": None}
    return RunProcess(effect_id="e1", process="shell", code=code, **{**values, **fields})


def script(code: str) -> RunProcess:
    return RunProcess(
        effect_id="e1", process="script", language="python", code=code, arguments=[],
        environment={}, stdin=None,
    )  # fmt: skip


async def test_stdin_arguments_and_environment_reach_the_process() -> None:
    command = shell('read who; echo "$1, $who, $GREETING"', arguments=["Hello"], stdin="Ada",
                    environment={"GREETING": "welcome"})  # fmt: skip
    assert await ProcessEffects().run(command) == {
        "code": 0,
        "stdout": "Hello, Ada, welcome\n",
        "stderr": "",
    }


async def test_output_past_the_limit_stops_the_process_and_faults_the_task() -> None:
    started = time.monotonic()
    with pytest.raises(EffectError) as caught:
        await ProcessEffects(output_bytes=10_000).run(shell("yes flowapp"))
    assert caught.value.error["status"] == 413
    assert "more than 10,000 bytes to stdout" in caught.value.error["detail"]
    assert time.monotonic() - started < 5


async def test_stderr_is_bounded_too() -> None:
    with pytest.raises(EffectError, match="to stderr"):
        await ProcessEffects(output_bytes=1000).run(shell("yes flowapp >&2"))


async def test_killing_a_process_whose_output_was_left_unread_ends() -> None:
    # Output over the limit is left unread: asyncio pauses reading a pipe whose buffer is
    # full, never sees its EOF, and its ``wait()`` (which waits for every pipe's EOF) never
    # returned. On a busy machine the writer fills that buffer before it is killed.
    writer = (
        "import sys, time; sys.stdout.write('x' * (1 << 20)); sys.stdout.flush(); time.sleep(600)"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", writer, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    await asyncio.sleep(1)  # the pipe's buffer fills up, nobody reading it

    async with asyncio.timeout(30):
        await _kill(process)
    assert process.returncode == -signal.SIGKILL


async def test_a_descendant_holding_the_output_open_cannot_hang_the_task(tmp_path: Path) -> None:
    # A descendant in a session of its own outlives the kill of the process group and keeps
    # the output pipes open: the task times out, and its process is waited for all the same.
    pidfile = tmp_path / "pid"
    command = shell(f"setsid sh -c 'echo $$ > {pidfile}; exec sleep 600' & sleep 600")
    try:
        async with asyncio.timeout(30):
            with pytest.raises(EffectError) as caught:
                await ProcessEffects(timeout=1).run(command)
    finally:
        with contextlib.suppress(FileNotFoundError, ValueError, ProcessLookupError):
            os.kill(int(pidfile.read_text()), signal.SIGKILL)
    assert caught.value.error["status"] == 408
    assert caught.value.error["detail"] == "the process ran past 1 s"


async def test_a_process_that_outlives_its_kill_faults_the_task_instead_of_waiting_for_ever(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A process the kernel cannot end (uninterruptible I/O) stands here as one whose
    # SIGKILL is lost.
    process = await asyncio.create_subprocess_exec("sleep", "600", start_new_session=True)
    monkeypatch.setattr(os, "killpg", lambda pid, sig: None)
    try:
        with pytest.raises(EffectError, match=r"did not exit within 0.5 s of SIGKILL"):
            await _kill(process, within=0.5)
    finally:
        monkeypatch.undo()
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


async def test_a_kind_the_app_may_not_run_is_refused_before_it_starts(tmp_path: Path) -> None:
    async def nothing(app: str | None) -> frozenset[str]:
        return frozenset({"script"})

    witness = tmp_path / "ran"
    with pytest.raises(EffectError) as caught:
        await ProcessEffects(allowed=nothing).run(shell(f"touch {witness}"), app="shop")
    error = caught.value.error
    assert (error["status"], error["title"]) == (403, "Process Kind Not Allowed")
    assert "run: shell is disabled on this platform for app shop" in error["detail"]
    assert not witness.exists()


async def test_a_sandboxed_process_runs_as_its_apps_user_with_the_declared_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    require_root_and_bwrap()
    monkeypatch.setenv("SERVER_ONLY", "do-not-leak")
    sandbox, _ = open_sandbox(SandboxSettings(mode="bwrap", hidden=(tmp_path,)))
    effects = ProcessEffects(sandbox=sandbox)
    command = shell(
        'id -u; pwd; echo "${SERVER_ONLY:-absent} $DECLARED"; sleep 600 & echo started',
        environment={"DECLARED": "present"},
    )

    started = time.monotonic()
    answer = await effects.run(command, app="shop")

    assert answer["stdout"].splitlines() == [
        str(app_user("shop").uid), "/tmp", "absent present", "started",
    ]  # fmt: skip
    assert time.monotonic() - started < 10  # its background sleep ended with it
    python = await effects.run(script("import sys; print(sys.version_info[0])"), app="shop")
    assert python["stdout"] == "3\n"


async def test_a_sandboxed_process_stopped_by_a_limit_faults_naming_it(tmp_path: Path) -> None:
    require_root_and_bwrap()
    settings = SandboxSettings(mode="bwrap", limits=Limits(cpu_seconds=1), hidden=(tmp_path,))
    effects = ProcessEffects(sandbox=open_sandbox(settings)[0])

    with pytest.raises(EffectError, match=r"stopped by its CPU time limit \(1 s\)"):
        await effects.run(shell("while :; do :; done"), app="shop")
