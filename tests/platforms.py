"""The real platform for tests, built in one place: ``LocalPlatform`` and its ``Runtime``
over the in-memory stores, a data folder, and functions called in the test's own process.

    async with running_platform(tmp_path) as running:
        app = create_app(platform=running.platform, store=running.store, ...)

Everything the API does goes through the product: apps are scaffolded into git
repositories under the data folder, deploys build revision folders, executions run on the
runtime. Only the function processes are replaced (``InProcessFunctions``): each call goes
to the handler a test registered for that function name (``running.functions.handlers``),
else to ``handle`` in the function's folder of the revision (Python), called like the
function host calls it (``flowapp.functions.testing.FakeFunctions``). Events the API
publishes are recorded (``running.events``) and offered to the executions waiting for
them, as the bus would. The syncer does not run on its own: ``await running.sync()`` writes
the apps' status as one of its rounds would.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

import uvicorn

from flowapp.apps import FlowApp
from flowapp.functions.errors import FunctionUnavailable
from flowapp.functions.loader import Handler, HandlerLoadError, load_handler
from flowapp.functions.logs import LogLine
from flowapp.functions.port import FunctionCall
from flowapp.functions.scaling import FunctionStatus
from flowapp.functions.testing import FakeFunctions
from flowapp.gitrepos import Repositories
from flowapp.local.platform import LocalPlatform
from flowapp.local.revisions import RevisionFailed
from flowapp.local.syncer import Syncer
from flowapp.runtime.dispatch import Effects
from flowapp.runtime.effects.functions import FunctionRouter
from flowapp.runtime.effects.process import ProcessEffects
from flowapp.runtime.runtime import Runtime
from flowapp.server.app import create_app
from flowapp.store.memory import MemoryStore
from flowapp.store.platform import MemoryPlatformStore, PlatformStore
from flowapp.store.port import Store

T = TypeVar("T")
START_TIMEOUT = 30.0


@dataclass
class Functions:
    """What the tests decide about functions: handlers by function name (an author's
    ``handle(data, context)``), and ``fail_starts``: the reason every revision started
    from now on fails to start (as a build that fails or a process that exits would)."""

    handlers: dict[str, Handler] = field(default_factory=dict)
    fail_starts: str | None = None

    def run(self, app: FlowApp, revision: str) -> InProcessFunctions:
        return InProcessFunctions(app, revision, self)


class InProcessFunctions:
    """One revision's functions, called in this process (``RevisionFunctions``)."""

    def __init__(self, app: FlowApp, revision: str, kit: Functions) -> None:
        self.app = app
        self.revision = revision
        self.kit = kit
        self.lines: list[LogLine] = []
        self.loaded: dict[str, Handler] = {}
        self.caller = FakeFunctions(app=app.name)

    async def start(self) -> None:
        if self.kit.fail_starts is not None:  # as a build or a process exiting at start
            raise RevisionFailed(f"functions failed to start: {self.kit.fail_starts}")
        for name in sorted(self.app.functions):
            self._log(name, f"function {name} started")

    async def stop(self) -> None:
        self.loaded.clear()

    async def call(self, call: FunctionCall) -> Any:
        name = call.function
        if name not in self.app.functions:
            raise FunctionUnavailable(name, "no such function in this app")
        self._log(name, f"called with {call.data!r}", call.execution_id)
        handler = self.handler(name)
        if handler is not None:
            self.caller.register(name, handler)
        timeout = call.timeout or self.app.functions[name].timeout
        return await self.caller.call(replace(call, timeout=timeout))

    def handler(self, name: str) -> Handler | None:
        given = self.kit.handlers.get(name)
        if given is not None:
            return given
        if name not in self.loaded:
            spec = self.app.functions[name]
            if spec.runtime != "python":
                return None
            try:
                with _imports_undone():
                    self.loaded[name] = load_handler(spec.path)
            except HandlerLoadError:
                return None
        return self.loaded[name]

    def status(self) -> dict[str, FunctionStatus]:
        return {
            name: FunctionStatus(name, "ready", 1, 1, 0, 0, 0, None) for name in self.app.functions
        }

    def logs(
        self, function: str, *, execution_id: str | None = None, limit: int = 100
    ) -> list[LogLine]:
        lines = [
            line
            for line in self.lines
            if line.function == function
            and (execution_id is None or line.execution_id == execution_id)
        ]
        return lines[-limit:] if limit > 0 else []

    def _log(self, function: str, text: str, execution_id: str | None = None) -> None:
        line = LogLine(time.time(), function, f"{function}-0", "stdout", text, execution_id)
        self.lines.append(line)


@contextlib.contextmanager
def _imports_undone() -> Iterator[None]:
    """The test process's import path and modules as they were after a function's module
    is loaded (the loader puts its folder first on ``sys.path`` and names it ``main``)."""
    path, modules = list(sys.path), dict(sys.modules)
    try:
        yield
    finally:
        sys.path[:] = path
        for name in list(sys.modules):
            if name not in modules:
                del sys.modules[name]
            elif sys.modules[name] is not modules[name]:
                sys.modules[name] = modules[name]


@dataclass
class RunningPlatform:
    platform: LocalPlatform
    runtime: Runtime
    store: Store
    platform_store: PlatformStore
    functions: Functions
    events: list[dict[str, Any]]
    syncer: Syncer

    async def sync(self) -> None:
        """One round of the syncer: each app's observation and conditions written."""
        await self.syncer.sync_once()


def unstarted_platform(
    data_dir: Path,
    *,
    platform_store: PlatformStore | None = None,
    repositories: Any = None,
) -> LocalPlatform:
    """The platform before ``start()``, over a stand-in runtime with no executions: for
    tests of what it checks and keeps before anything runs, and of calls that come in
    before it has started."""
    runtime = SimpleNamespace(on_finished=[], live={}, store=MemoryStore())
    return LocalPlatform(
        data_dir=data_dir,
        runtime=runtime,  # type: ignore[arg-type]
        platform_store=platform_store if platform_store is not None else MemoryPlatformStore(),
        repositories=repositories,
    )


@contextlib.asynccontextmanager
async def running_platform(
    data_dir: Path,
    *,
    store: Store | None = None,
    platform_store: PlatformStore | None = None,
    functions: Functions | None = None,
    allow_run: tuple[str, ...] = (),
) -> AsyncIterator[RunningPlatform]:
    """The platform started over ``data_dir`` (created if missing), stopped on exit."""
    data_dir.mkdir(parents=True, exist_ok=True)
    store = store if store is not None else MemoryStore()
    platform_store = platform_store if platform_store is not None else MemoryPlatformStore()
    functions = functions if functions is not None else Functions()
    events: list[dict[str, Any]] = []
    holder: dict[str, LocalPlatform] = {}

    async def publish(event: dict[str, Any]) -> None:  # the bus: kept, then delivered
        events.append(event)
        await runtime.offer_event(event)

    async def allowed_runs(app: str | None) -> frozenset[str]:
        return await holder["platform"].allowed_runs(app)

    router = FunctionRouter(lambda workflow: holder["platform"].functions_of(workflow))
    processes = ProcessEffects(allowed=allowed_runs)
    effects = Effects(functions=router, publish=publish, processes=processes)
    runtime = Runtime(store, effects=effects)
    platform = LocalPlatform(
        data_dir=data_dir,
        runtime=runtime,
        platform_store=platform_store,
        repositories=Repositories(data_dir / "repos"),
        allow_run=allow_run,
        run_functions=functions.run,
    )
    holder["platform"] = platform
    syncer = Syncer(platform_store, platform.observe)
    await runtime.start()
    await platform.start()
    try:
        yield RunningPlatform(platform, runtime, store, platform_store, functions, events, syncer)
    finally:
        await platform.stop()
        await runtime.stop()


class ServedPlatform:
    """The API over the real platform, served by uvicorn on a free port of 127.0.0.1 in a
    thread whose event loop runs the platform too (for tests that need real HTTP: the
    CLI's, schemathesis, fuzzing). ``options`` go to ``create_app``.

        with ServedPlatform(tmp_path / "data", store=store, platform_store=ps) as served:
            httpx.get(served.url + "/healthz")
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        store: Store | None = None,
        platform_store: PlatformStore | None = None,
        **options: Any,
    ) -> None:
        self.data_dir = data_dir
        self.store = store
        self.platform_store = platform_store
        self.options = options
        self.port = 0
        self._running: RunningPlatform | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._failure: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> RunningPlatform:
        assert self._running is not None, "the platform is not started"
        return self._running

    def __enter__(self) -> ServedPlatform:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))  # bound here, so the port is known before uvicorn runs
        self.port = sock.getsockname()[1]
        self._thread = threading.Thread(target=self._run, args=(sock,), daemon=True)
        self._thread.start()
        if not self._started.wait(START_TIMEOUT) or self._failure is not None:
            self.__exit__(None, None, None)
            raise RuntimeError("the platform's server did not start") from self._failure
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)

    def call(self, make: Callable[[RunningPlatform], Awaitable[T]]) -> T:
        """Run ``make(running)`` on the server's event loop and wait for its result (for
        what a test asks of the platform itself, beside its API)."""
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(_awaited(make(self.running)), self._loop)
        return future.result(timeout=60)

    def _run(self, sock: socket.socket) -> None:
        try:
            asyncio.run(self._serve(sock))
        except BaseException as exc:  # reported by __enter__
            self._failure = exc
            self._started.set()

    async def _serve(self, sock: socket.socket) -> None:
        self._loop = asyncio.get_running_loop()
        async with running_platform(
            self.data_dir, store=self.store, platform_store=self.platform_store
        ) as running:
            self._running = running
            app = create_app(
                platform=running.platform,
                store=running.store,
                platform_store=running.platform_store,
                **self.options,
            )
            config = uvicorn.Config(
                app, lifespan="off", ws="none", log_level="warning", timeout_graceful_shutdown=5
            )
            self._server = uvicorn.Server(config)
            serving = asyncio.create_task(self._server.serve(sockets=[sock]))
            while not self._server.started and not serving.done():
                await asyncio.sleep(0.01)
            self._started.set()
            await serving


async def _awaited(value: Awaitable[T]) -> T:
    return await value
