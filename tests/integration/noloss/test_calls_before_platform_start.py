"""Regression: executions recovered by ``flowapp up`` after a crash faulted with 503.

``flowapp up`` recovers the unfinished executions (``runtime.start(recover=True)``) before
``LocalPlatform.start()`` has started the revisions, and recovery re-dispatches their
function calls at once. ``functions_of`` found no revision host then, so every call in
flight at the crash failed with "no functions are running … is it deployed?" and its
execution faulted (25 of 1,000 in the first NATS crash test). Now a call made before
``start()`` waits for it. The crash tests in ``test_noloss_triggers.py`` cover the whole
path; these pin the contract on the platform alone, without processes.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from flowapp.functions.errors import FunctionUnavailable
from flowapp.functions.port import FunctionCall
from flowapp.local.platform import LocalPlatform
from tests import calls
from tests.platforms import unstarted_platform

REVISION = ("shop", "shop-00001")


class _Supervisor:
    async def call(self, call: FunctionCall) -> Any:
        return {"function": call.function, "data": call.data}


class _Host:
    """What ``start()`` would have started for the revision with traffic."""

    supervisor = _Supervisor()

    async def stop(self) -> None:
        pass


def _platform(tmp_path: Path) -> LocalPlatform:
    return unstarted_platform(tmp_path)  # no apps


def _workflow() -> Any:
    return SimpleNamespace(app=REVISION[0], revision=REVISION[1])


async def _call(platform: LocalPlatform) -> asyncio.Task[Any]:
    caller = platform.functions_of(_workflow())
    assert caller is not None, "before start(), a call must wait instead of failing"
    task = asyncio.create_task(calls.call(caller, "record", {"n": 1}))
    await asyncio.sleep(0.05)
    assert not task.done()
    return task


async def test_a_call_made_before_start_goes_to_the_revision_once_started(
    tmp_path: Path,
) -> None:
    platform = _platform(tmp_path)
    call = await _call(platform)
    platform.hosts.running[REVISION] = _Host()  # type: ignore[assignment]
    await platform.start()
    assert await call == {"function": "record", "data": {"n": 1}}
    await platform.stop()


async def test_a_call_for_a_revision_that_cannot_start_is_unavailable(tmp_path: Path) -> None:
    """Not started by start() (no traffic), so started on demand: its folder is gone
    (a deleted app), so the call fails as a stopped function does (503, retryable)."""
    platform = _platform(tmp_path)
    call = await _call(platform)
    await platform.start()
    with pytest.raises(FunctionUnavailable, match="revision shop-00001 of shop cannot be started"):
        await call
    await platform.stop()
