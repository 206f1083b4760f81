"""Crashes: at start (failing, fail fast, recovery), during a call (restart), bad folders."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from flowapp.functions.errors import FunctionUnavailable
from flowapp.functions.spec import FunctionSpec
from tests.calls import call

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "functions"


async def test_crash_on_start_becomes_failing_and_calls_fail_fast(
    make_supervisor: Any, eventually: Any
) -> None:
    supervisor = await make_supervisor(
        FunctionSpec("broken", "python", FIXTURES / "broken"), max_failed_starts=3
    )

    await eventually(lambda: supervisor.status()["broken"].state == "failing")

    status = supervisor.status()["broken"]
    assert status.restarts >= 3
    assert "database URL is not configured" in (status.last_error or "")
    with pytest.raises(FunctionUnavailable, match=r"(?s)failing.*database URL is not configured"):
        await call(supervisor, "broken", {})
    # Fast: the call was answered from the status, without starting the function again.
    after = supervisor.status()["broken"]
    assert (after.state, after.restarts, after.instances) == ("failing", status.restarts, 0)


async def test_a_failing_function_recovers_when_a_later_retry_succeeds(
    make_supervisor: Any, eventually: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "flaky"
    shutil.copytree(FIXTURES / "broken", folder)
    supervisor = await make_supervisor(FunctionSpec("flaky", "python", folder), max_failed_starts=2)
    await eventually(lambda: supervisor.status()["flaky"].state == "failing")

    shutil.copy(FIXTURES / "echo" / "main.py", folder / "main.py")  # someone fixes the code

    await eventually(lambda: supervisor.status()["flaky"].state == "ready")
    assert (await call(supervisor, "flaky", 5))["echo"] == {"value": 5}


async def test_crash_during_a_call_is_unavailable_then_restarted(
    make_supervisor: Any, eventually: Any
) -> None:
    supervisor = await make_supervisor(FunctionSpec("echo", "python", FIXTURES / "echo"))
    first = (await call(supervisor, "echo", 1))["pid"]

    with pytest.raises(FunctionUnavailable, match="'echo'"):
        await call(supervisor, "echo", {"exit": 3})

    # No call is routed to the dying instance, even before its exit is noticed.
    assert supervisor.status()["echo"].ready == 0
    await eventually(lambda: supervisor.status()["echo"].ready == 1)
    status = supervisor.status()["echo"]
    assert status.restarts == 1
    assert "exited with code 3" in (status.last_error or "")
    assert (await call(supervisor, "echo", 2))["pid"] != first


async def test_a_missing_folder_fails_at_once_with_the_reason(make_supervisor: Any) -> None:
    supervisor = await make_supervisor(FunctionSpec("ghost", "python", FIXTURES / "nope"))

    status = supervisor.status()["ghost"]
    assert status.state == "failing"
    assert "does not exist" in (status.last_error or "")
    with pytest.raises(FunctionUnavailable, match="does not exist"):
        await call(supervisor, "ghost", {})


async def test_calls_after_stop_are_unavailable(make_supervisor: Any) -> None:
    supervisor = await make_supervisor(FunctionSpec("echo", "python", FIXTURES / "echo"))
    await supervisor.stop()

    assert supervisor.status()["echo"].state == "stopped"
    with pytest.raises(FunctionUnavailable):
        await call(supervisor, "echo", {})
