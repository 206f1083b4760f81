"""One process of a function: spawn it, wait for ``/healthz``, pump its output, stop it.

An :class:`Instance` knows nothing about scaling; the pool decides when to create and
retire them and keeps the routing counters (``state``, ``in_flight``, ``last_active``)
on them. Each process runs in its own session (process group) so that stopping it also
stops whatever it spawned (``npm``, a shell script's children), and so that a Ctrl-C in
the terminal reaches the supervisor only, which then stops instances gracefully. In the
bubblewrap sandbox, SIGTERM goes to the function's process itself (bwrap would die of it
and kill the function without a drain); when the function exits, its PID namespace ends
and everything it started with it.

Output is read line by line into the :class:`~flowapp.functions.logs.LogStore`; the last
lines are kept on the instance too, to explain a failed start or a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import time
from collections import deque
from typing import Literal

import aiohttp

from flowapp.functions.logs import LogStore, Stream
from flowapp.sandbox import Spawn, code_pids

# checking: a call's connection to it failed; out of routing until it answers /healthz.
InstanceState = Literal["starting", "ready", "checking", "stopping"]
_TAIL_LINES = 15
_LINE_LIMIT = 1 << 20  # longer lines are dropped rather than stalling the pipe
_HEALTH_TIMEOUT = aiohttp.ClientTimeout(total=1.0)


class InstanceStartError(Exception):
    """The process could not be started or never answered ``/healthz``."""


def free_port() -> int:
    """A port the OS considers free on 127.0.0.1 (the instance binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Instance:
    def __init__(self, *, id: str, function: str, port: int, logs: LogStore) -> None:
        self.id = id
        self.function = function
        self.port = port
        self.url = f"http://127.0.0.1:{port}/"
        self.state: InstanceState = "starting"
        self.in_flight = 0
        self.last_active = 0.0
        self._logs = logs
        self._process: asyncio.subprocess.Process | None = None
        self._nested = False  # under bubblewrap's init (see the module's docstring)
        self._pumps: list[asyncio.Task[None]] = []
        self._tail: deque[str] = deque(maxlen=_TAIL_LINES)

    @property
    def ready(self) -> bool:
        return self.state == "ready"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    async def start(self, launch: Spawn, *, session: aiohttp.ClientSession, timeout: float) -> None:
        """Spawn the process and return once it answers ``/healthz`` with 200."""
        self._nested = launch.nested
        try:
            self._process = process = await asyncio.create_subprocess_exec(
                *launch.argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
                limit=_LINE_LIMIT,
                **launch.popen_args(),
            )
        except OSError as exc:
            raise InstanceStartError(f"cannot run `{launch.argv[0]}`: {exc}") from exc
        assert process.stdout is not None and process.stderr is not None  # PIPE above
        self._pumps = [
            asyncio.create_task(self._pump(process.stdout, "stdout")),
            asyncio.create_task(self._pump(process.stderr, "stderr")),
        ]
        await self._wait_healthy(session, timeout)

    async def _wait_healthy(self, session: aiohttp.ClientSession, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        delay = 0.005  # polls fast at first: most hosts are up within a few hundred ms
        while True:
            if self.returncode is not None:
                raise InstanceStartError(
                    f"exited with code {self.returncode} before answering /healthz"
                    + await self.output_tail()
                )
            if await self.healthy(session):
                return
            if loop.time() >= deadline:
                await self.terminate(grace=0)
                raise InstanceStartError(
                    f"did not answer /healthz within {timeout:g}s" + await self.output_tail()
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)

    async def healthy(self, session: aiohttp.ClientSession) -> bool:
        """Whether ``GET /healthz`` answers 200 (within a second)."""
        try:
            async with session.get(self.url + "healthz", timeout=_HEALTH_TIMEOUT) as response:
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    @property
    def returncode(self) -> int | None:
        return self._process.returncode if self._process else None

    async def wait(self) -> int:
        """The exit code, once the process has exited."""
        if self._process is None:
            return -1
        return await self._process.wait()

    async def terminate(self, *, grace: float) -> None:
        """SIGTERM (the process finishes in-flight calls), then SIGKILL after ``grace``."""
        if self._process is None:
            return
        if self._process.returncode is None:
            self._signal(signal.SIGTERM if grace > 0 else signal.SIGKILL)
            try:
                await asyncio.wait_for(self._process.wait(), grace if grace > 0 else None)
            except TimeoutError:
                self._signal(signal.SIGKILL)
                await self._process.wait()
        await self._drain()

    async def output_tail(self) -> str:
        """The last lines of output, as a suffix for an error message."""
        await self._drain()
        return (":\n" + "\n".join(self._tail)) if self._tail else ""

    def _signal(self, signum: signal.Signals) -> None:
        if self._process is None:
            return
        if self._nested and signum != signal.SIGKILL:
            for pid in code_pids(self._process.pid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signum)
            return
        # The whole process group: a command's children must not outlive it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, signum)

    async def _drain(self) -> None:
        # Pipes can stay open after exit if a grandchild inherited them; do not hang on it.
        if self._pumps:
            await asyncio.wait(self._pumps, timeout=1.0)
        process = self._process
        stuck = [pump for pump in self._pumps if not pump.done()]
        if process is not None and process.returncode is not None and stuck:
            for pump in stuck:
                pump.cancel()
            close_pipes(process)

    async def _pump(self, stream: asyncio.StreamReader, name: Stream) -> None:
        while True:
            try:
                raw = await stream.readline()
            except ValueError:  # over the line limit: readline discarded it
                self._record(name, "[flowapp: line longer than 1 MiB dropped]")
                continue
            if not raw:
                return
            self._record(name, raw.decode(errors="replace").rstrip("\r\n"))

    def _record(self, stream: Stream, text: str) -> None:
        self._tail.append(text)
        self._logs.append(
            function=self.function, instance=self.id, stream=stream, text=text, time=time.time()
        )


def close_pipes(process: asyncio.subprocess.Process) -> None:
    """Close an exited process's pipes that are still open (a grandchild holding them, or
    output nobody read to its end): asyncio closes its transport only once every pipe
    reached EOF, and a transport left open is a leaked file descriptor per process."""
    transport = getattr(process, "_transport", None)  # asyncio keeps it private
    if transport is not None:
        transport.close()
