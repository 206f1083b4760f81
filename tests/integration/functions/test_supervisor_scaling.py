"""Autoscaling with real processes: burst to max, scale to zero, cold start, reload."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

from flowapp.functions.spec import FunctionSpec, ScaleSpec
from flowapp.functions.supervisor import Supervisor
from flowapp.functions.watch import watch
from tests.calls import call

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "functions"


async def test_a_burst_scales_out_to_max_instances(make_supervisor: Any) -> None:
    scale = ScaleSpec(min=1, max=3, concurrency=1)
    supervisor = await make_supervisor(
        FunctionSpec("echo", "python", FIXTURES / "echo", scale=scale)
    )

    outputs = await asyncio.gather(*(call(supervisor, "echo", {"sleep": 0.5}) for _ in range(6)))

    assert len({output["pid"] for output in outputs}) == 3
    status = supervisor.status()["echo"]
    assert (status.instances, status.ready, status.in_flight) == (3, 3, 0)


async def test_scale_to_zero_after_idle_then_cold_start(
    make_supervisor: Any, eventually: Any
) -> None:
    spec = FunctionSpec(
        "echo", "python", FIXTURES / "echo", scale=ScaleSpec(min=0), idle_period=1.0
    )
    supervisor = await make_supervisor(spec)
    assert supervisor.status()["echo"].state == "scaled-to-zero"

    first = await call(supervisor, "echo", 1)  # cold start
    assert supervisor.status()["echo"].instances == 1

    await eventually(lambda: supervisor.status()["echo"].state == "scaled-to-zero", timeout=5)
    assert supervisor.status()["echo"].instances == 0

    second = await call(supervisor, "echo", 2)  # cold start again: a new process
    assert second["pid"] != first["pid"]
    assert supervisor.status()["echo"].state == "ready"


async def test_scale_down_to_min_after_a_burst(make_supervisor: Any, eventually: Any) -> None:
    scale = ScaleSpec(min=1, max=2, concurrency=1)
    spec = FunctionSpec("echo", "python", FIXTURES / "echo", scale=scale, idle_period=0.5)
    supervisor = await make_supervisor(spec)

    await asyncio.gather(*(call(supervisor, "echo", {"sleep": 0.3}) for _ in range(2)))
    assert supervisor.status()["echo"].instances == 2

    await eventually(lambda: supervisor.status()["echo"].instances == 1, timeout=5)
    assert supervisor.status()["echo"].state == "ready"


async def test_a_warm_instance_outlives_one_started_for_a_burst_it_served_alone(
    make_supervisor: Any, eventually: Any, tmp_path: Path
) -> None:
    """The second instance is still booting when the first has answered both calls: the
    scale-down must keep the warm one, not leave the function with nothing ready."""
    folder = tmp_path / "slow_boot"
    folder.mkdir()
    (folder / "main.py").write_text(
        "import time\n"
        "time.sleep(2)\n"
        "def handle(data, context):\n"
        "    time.sleep(0.1)\n"
        "    return data\n"
    )
    scale = ScaleSpec(min=1, max=2, concurrency=1)
    supervisor = await make_supervisor(
        FunctionSpec("slow", "python", folder, scale=scale, idle_period=0.3)
    )
    assert supervisor.status()["slow"].state == "ready"

    await asyncio.gather(call(supervisor, "slow", 1), call(supervisor, "slow", 2))
    assert (supervisor.status()["slow"].instances, supervisor.status()["slow"].ready) == (2, 1)

    await eventually(lambda: supervisor.status()["slow"].instances == 1, timeout=10)
    assert supervisor.status()["slow"].state == "ready"


async def test_watch_reloads_a_function_when_its_code_changes(
    make_supervisor: Any, eventually: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "greet"
    folder.mkdir()
    (folder / "main.py").write_text("def handle(data, context):\n    return 'v1'\n")
    supervisor = await make_supervisor(FunctionSpec("greet", "python", folder))
    watcher = asyncio.create_task(watch(supervisor, interval=0.05))
    try:
        assert await call(supervisor, "greet", None) == "v1"
        await asyncio.sleep(0.1)  # the watcher's first snapshot is taken

        (folder / "main.py").write_text("def handle(data, context):\n    return 'version 2'\n")

        await eventually(
            lambda: supervisor.status()["greet"].restarts == 0 and _reloaded(supervisor)
        )
        assert await call(supervisor, "greet", None) == "version 2"
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)


def _reloaded(supervisor: Supervisor) -> bool:
    lines = supervisor.logs("greet", limit=1000)
    return supervisor.status()["greet"].state == "ready" and any(
        line.instance == "greet-2" for line in lines
    )


async def test_reload_replaces_instances_without_failing_calls(
    make_supervisor: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "echo"
    shutil.copytree(FIXTURES / "echo", folder)
    supervisor = await make_supervisor(FunctionSpec("echo", "python", folder))
    before = (await call(supervisor, "echo", 1))["pid"]
    in_flight = asyncio.create_task(call(supervisor, "echo", {"sleep": 0.5}))
    await asyncio.sleep(0.1)

    await supervisor.reload("echo")

    assert (await in_flight)["pid"] == before  # finished on the old instance
    assert (await call(supervisor, "echo", 2))["pid"] != before
