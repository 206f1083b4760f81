"""Calls through the supervisor that need their own supervisor: timeouts, handler kinds."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from flowapp.functions.errors import FunctionTimeout
from flowapp.functions.spec import FunctionSpec
from tests.calls import call

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "functions"
ECHO = {"python": FIXTURES / "echo", "node": FIXTURES / "node_echo"}


async def test_a_hanging_function_times_out_within_the_timeout(make_supervisor: Any) -> None:
    spec = FunctionSpec("echo", "python", ECHO["python"], timeout=0.5)
    # A short grace period: the hung handler keeps the instance from stopping sooner.
    supervisor = await make_supervisor(spec, grace_period=0.5)

    started = time.monotonic()
    with pytest.raises(FunctionTimeout, match=r"'echo'.*0\.5s"):
        await call(supervisor, "echo", {"hang": True})

    assert 0.5 <= time.monotonic() - started < 1.5
    assert (await call(supervisor, "echo", 1, timeout=5))["echo"] == {"value": 1}


async def test_sync_and_async_python_handlers_side_by_side(make_supervisor: Any) -> None:
    supervisor = await make_supervisor(
        FunctionSpec("sync", "python", FIXTURES / "echo"),
        FunctionSpec("async", "python", FIXTURES / "echo_async"),
    )

    assert (await call(supervisor, "sync", [1]))["echo"] == {"value": [1]}
    assert (await call(supervisor, "async", [2]))["echo"] == [2]
