"""Fixtures for function tests: real processes and real HTTP on 127.0.0.1.

- ``make_supervisor(*specs, **options)`` starts a supervisor with this test's private
  metrics registry, short grace period and backoff; it is stopped after the test.
- ``host`` runs the echo function on each host (Python, Node.js, Java and Go: one test
  body, every runtime) directly, without a supervisor, to test the HTTP contract itself; it is
  shared by a module's tests. ``start_host(runtime, folder)`` starts a private one.
- ``eventually(check)`` waits for a state reached through timers and processes.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from multidict import CIMultiDict
from prometheus_client import CollectorRegistry

from flowapp.functions.build import find_go
from flowapp.functions.instance import free_port
from flowapp.functions.launch import NODE_HOST, prepare
from flowapp.functions.scaling import Backoff
from flowapp.functions.spec import FunctionSpec
from flowapp.functions.supervisor import Supervisor
from tests.servers import skip_unless_ci

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "functions"
ECHO = {
    "python": FIXTURES / "echo",
    "node": FIXTURES / "node_echo",
    "java": FIXTURES / "java_echo",
    "go": FIXTURES / "go_echo",
}
# Every host runtime, each test skipped where its toolchain is missing.
RUNTIMES = [
    "python",
    "node",
    pytest.param(
        "java",
        marks=pytest.mark.skipif(
            skip_unless_ci(shutil.which("javac") is None), reason="needs a JDK"
        ),
    ),
    pytest.param(
        "go", marks=pytest.mark.skipif(skip_unless_ci(find_go() is None), reason="needs go")
    ),
]

MakeSupervisor = Callable[..., Awaitable[Supervisor]]
Eventually = Callable[..., Awaitable[None]]


@dataclass
class Host:
    """A host process serving one function at ``url``."""

    process: asyncio.subprocess.Process
    url: str
    session: aiohttp.ClientSession
    scratch: Path | None = None  # a copy of the function's folder, removed at stop

    async def post(
        self, body: bytes, headers: dict[str, str]
    ) -> tuple[int, CIMultiDict[str], bytes]:
        """Status, headers (case-insensitive, as in HTTP: the JDK writes ``Ce-type``), body."""
        async with self.session.post(self.url, data=body, headers=headers) as response:
            return response.status, CIMultiDict(response.headers), await response.read()

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
        await self.process.wait()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


StartHost = Callable[[str, Path], Awaitable[Host]]


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
async def make_supervisor(registry: CollectorRegistry) -> AsyncIterator[MakeSupervisor]:
    started: list[Supervisor] = []

    async def make(*specs: FunctionSpec, **options: Any) -> Supervisor:
        options.setdefault("registry", registry)
        options.setdefault("grace_period", 2.0)
        options.setdefault("backoff", Backoff(initial=0.05, maximum=0.2))
        supervisor = Supervisor(specs, **options)
        started.append(supervisor)
        await supervisor.start()
        return supervisor

    yield make
    await asyncio.gather(*(s.stop() for s in started))


@pytest.fixture
async def start_host() -> AsyncIterator[StartHost]:
    hosts: list[Host] = []
    async with aiohttp.ClientSession() as session:

        async def start(runtime: str, folder: Path) -> Host:
            host = await _start_host(runtime, folder, session)
            hosts.append(host)
            return host

        yield start
        await asyncio.gather(*(h.stop() for h in hosts))


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=RUNTIMES)
async def host(request: pytest.FixtureRequest) -> AsyncIterator[Host]:
    """Shared by a module's tests (their loop_scope must be "module"): start-ups are slow."""
    async with aiohttp.ClientSession() as session:
        host = await _start_host(request.param, ECHO[request.param], session)
        yield host
        await host.stop()


@pytest.fixture
def eventually() -> Eventually:
    async def wait(check: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError("condition not reached in time")
            await asyncio.sleep(0.02)

    return wait


async def _start_host(runtime: str, folder: Path, session: aiohttp.ClientSession) -> Host:
    port = free_port()
    scratch = None
    if runtime == "node":
        argv = [shutil.which("node") or "node", str(NODE_HOST), "--path", str(folder)]
    elif runtime in ("java", "go"):  # compiled first, as the supervisor does
        # In a copy: the build writes target/, and tests in other workers build too.
        scratch = Path(tempfile.mkdtemp(prefix="flowapp-host-"))
        folder = Path(shutil.copytree(folder, scratch / folder.name))
        spec = FunctionSpec(folder.name, runtime, folder)  # type: ignore[arg-type]
        launcher = await asyncio.to_thread(prepare, spec, app="shop", grace_period=5)
        argv = list(launcher.argv)
    else:
        argv = [sys.executable, "-m", "flowapp.functions.host", "--path", str(folder)]
    env = os.environ | {"PORT": str(port), "FLOWAPP_APP": "shop", "FLOWAPP_GRACE_PERIOD": "5"}
    process = await asyncio.create_subprocess_exec(
        *argv, env=env, stderr=asyncio.subprocess.DEVNULL
    )
    host = Host(process, f"http://127.0.0.1:{port}/", session, scratch)
    for _ in range(500):
        try:
            async with session.get(host.url + "healthz") as response:
                if response.status == 200:
                    return host
        except aiohttp.ClientError:
            await asyncio.sleep(0.02)
    await host.stop()
    raise AssertionError(f"the {runtime} host did not become healthy")
