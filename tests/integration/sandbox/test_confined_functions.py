"""Functions under the bubblewrap sandbox: real processes, real HTTP, as the app's user."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flowapp.functions.build import find_go
from flowapp.functions.errors import FunctionReplyError
from flowapp.functions.spec import FunctionSpec
from flowapp.sandbox import Sandbox, code_pids
from flowapp.sandbox.environment import FORWARDED
from flowapp.sandbox.identity import app_user
from tests.calls import call
from tests.servers import skip_unless_ci

CONTRACT = {
    "PATH", "HOME", "TMPDIR", "LANG", "PWD", "PORT", "HOST", "FLOWAPP_FUNCTION", "FLOWAPP_APP",
    "FLOWAPP_FUNCTION_PATH", "FLOWAPP_CONCURRENCY", "FLOWAPP_GRACE_PERIOD", "PYTHONUNBUFFERED",
    *FORWARDED,
}  # fmt: skip


SYSTEM = {
    "bin",
    "sbin",
    "lib",
    "lib32",
    "lib64",
    "libx32",
    "usr",
    "etc",
    "proc",
    "dev",
    "tmp",
    "var",
}


def owner_of(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("Uid:"))
    return int(line.split()[1])


async def test_a_python_function_sees_only_its_folder_tmp_and_the_system(
    make_supervisor: Any, open_confined: Callable[..., Sandbox], deployed: Any, data_dir: Path
) -> None:
    folder = deployed("sandbox_probe", "probe")
    spec = FunctionSpec("probe", "python", folder, env={"GREETING": "hi"})
    supervisor = await make_supervisor(spec, sandbox=open_confined())

    seen = await call(supervisor, "probe", {})

    user = app_user("shop")
    assert (seen["uid"], seen["gid"], seen["groups"]) == (user.uid, user.gid, [])
    assert set(seen["env"]) <= CONTRACT | {"GREETING"} and "GREETING" in seen["env"]
    assert seen["cwd"] == str(folder)
    assert seen["write_own_folder"] == "OSError: Read-only file system"
    assert seen["write_tmp"] == "ok"
    assert seen["processes"] == [1, 2]  # bubblewrap's init and the host: nothing else
    assert "passwd" not in seen["etc"] and "shadow" not in seen["etc"]
    assert (
        not {"home", "root", "etc", "opt", "srv", "var"}
        - set(seen["root"])
        - {"home", "opt", "srv"}
    )
    (instance,) = code_pids(supervisor._pools["probe"]._instances[0].pid or 0)
    assert owner_of(instance) == user.uid  # from the host's side too: not root


async def test_a_node_function_runs_confined_as_the_apps_user(
    make_supervisor: Any, open_confined: Callable[..., Sandbox], deployed: Any
) -> None:
    folder = deployed("node_echo", "echo")
    supervisor = await make_supervisor(
        FunctionSpec("echo", "node", folder), sandbox=open_confined()
    )

    assert (await call(supervisor, "echo", {"a": 1}))["echo"] == {"a": 1}
    (instance,) = code_pids(supervisor._pools["echo"]._instances[0].pid or 0)
    assert owner_of(instance) == app_user("shop").uid


@pytest.mark.parametrize(
    ("runtime", "fixture"),
    [
        pytest.param(
            "java",
            "java_echo",
            marks=pytest.mark.skipif(
                skip_unless_ci(shutil.which("javac") is None), reason="needs a JDK"
            ),
        ),
        pytest.param(
            "go",
            "go_echo",
            marks=pytest.mark.skipif(skip_unless_ci(find_go() is None), reason="needs go"),
        ),
    ],
)
@pytest.mark.timeout(600)  # Go's first build in an empty cache compiles std packages
async def test_java_and_go_functions_build_and_run_confined_as_the_apps_user(
    runtime: str,
    fixture: str,
    make_supervisor: Any,
    open_confined: Callable[..., Sandbox],
    deployed: Any,
    data_dir: Path,
) -> None:
    folder = deployed(fixture, "echo")
    cache = data_dir / "build-cache" / "shop"
    supervisor = await make_supervisor(
        FunctionSpec("echo", runtime, folder),  # type: ignore[arg-type]
        sandbox=open_confined(),
        build_cache=cache,
    )

    assert supervisor.status()["echo"].state == "ready", supervisor.status()["echo"].last_error
    assert (await call(supervisor, "echo", {"a": 1}))["echo"] == {"a": 1}
    (instance,) = code_pids(supervisor._pools["echo"]._instances[0].pid or 0)
    assert owner_of(instance) == app_user("shop").uid
    # Built by the app's user inside the folder, Go's cache in the app's own cache folder
    # (shared by its revisions, so the standard library compiles once per app).
    assert (folder / "target" / "flowapp").stat().st_uid == app_user("shop").uid
    if runtime == "go":
        assert (cache / "go-build").stat().st_uid == app_user("shop").uid
        assert not (folder / "target" / "flowapp" / "go-cache").exists()


async def test_a_confined_instance_finishes_its_calls_on_sigterm(
    make_supervisor: Any, open_confined: Callable[..., Sandbox], deployed: Any
) -> None:
    folder = deployed("echo", "echo")
    supervisor = await make_supervisor(
        FunctionSpec("echo", "python", folder), sandbox=open_confined()
    )
    in_flight = asyncio.create_task(call(supervisor, "echo", {"sleep": 1.0}))
    await asyncio.sleep(0.3)

    started = time.monotonic()
    await supervisor.stop()

    assert (await in_flight)["echo"] == {"sleep": 1.0}  # drained, not killed
    assert time.monotonic() - started < 4.0  # and not held to the grace period either


async def test_a_function_over_its_memory_limit_fails_the_call_with_memory_error(
    make_supervisor: Any, open_confined: Callable[..., Sandbox], deployed: Any
) -> None:
    folder = deployed("sandbox_probe", "probe")
    sandbox = open_confined(memory_bytes=256 << 20)
    supervisor = await make_supervisor(FunctionSpec("probe", "python", folder), sandbox=sandbox)

    assert await call(supervisor, "probe", {"do": "hog", "bytes": 64 << 20}) == {
        "allocated": 64 << 20
    }
    with pytest.raises(FunctionReplyError) as caught:
        await call(supervisor, "probe", {"do": "hog", "bytes": 512 << 20})
    assert caught.value.status == 500 and "MemoryError" in str(caught.value)
    assert "uid" in await call(supervisor, "probe", {})  # the instance lives on


async def test_an_instance_that_uses_up_its_cpu_time_is_replaced_and_says_why(
    make_supervisor: Any, open_confined: Callable[..., Sandbox], deployed: Any
) -> None:
    folder = deployed("sandbox_probe", "probe")
    spec = FunctionSpec("probe", "python", folder, timeout=1.0)
    supervisor = await make_supervisor(spec, sandbox=open_confined(cpu_seconds=2), grace_period=1)
    with pytest.raises(Exception, match="no reply within"):
        await call(supervisor, "probe", {"do": "spin"})

    deadline = time.monotonic() + 20
    while supervisor.status()["probe"].restarts == 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.1)

    reason = supervisor.status()["probe"].last_error or ""
    assert "exited with code 152 (stopped by its CPU time limit (2 s))" in reason
    assert "used up its CPU time limit" in reason
    assert "uid" in await call(supervisor, "probe", {})  # a fresh instance serves


def test_confined_functions_die_with_their_supervisor(
    open_confined: Callable[..., Sandbox], deployed: Any, data_dir: Path
) -> None:
    folder = deployed("echo", "echo")
    script = f"""
import asyncio, sys
from pathlib import Path
from flowapp.functions.spec import FunctionSpec
from flowapp.functions.supervisor import Supervisor
from flowapp.sandbox import Limits, SandboxSettings, code_pids, open_sandbox

async def main():
    sandbox, _ = open_sandbox(SandboxSettings(mode="bwrap", hidden=(Path({str(data_dir)!r}),)))
    supervisor = Supervisor([FunctionSpec("echo", "python", Path({str(folder)!r}))],
                            app="shop", sandbox=sandbox)
    await supervisor.start()
    instance = supervisor._pools["echo"]._instances[0]
    print(instance.pid, *code_pids(instance.pid), flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
"""
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    with process:
        try:
            line = process.stdout.readline() if process.stdout else ""
            pids = [int(pid) for pid in line.split()]
            assert len(pids) == 2  # bwrap, and the host (under bwrap's init)
            assert all(Path(f"/proc/{pid}").exists() for pid in pids)
            os.kill(process.pid, signal.SIGKILL)
            process.wait(10)
            deadline = time.monotonic() + 10
            while any(Path(f"/proc/{p}").exists() for p in pids) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert [pid for pid in pids if Path(f"/proc/{pid}").exists()] == []
        finally:
            if process.poll() is None:
                process.kill()
