"""``run: shell`` and ``run: script``: a process on this machine, answered with
``{code, stdout, stderr}``. Scripts run with ``node`` (js) or this Python (python).

On ``flowapp up`` the process runs in the sandbox (``flowapp.sandbox``) as its app's user,
and only if the platform or an admin allowed that kind of process for the app
(``allowed``); otherwise the task faults with an authorization error (403) that says how
to allow it. Its stdout and stderr are read as they come and each is bounded
(``output_bytes``): past the bound the process is killed and the task faults, so that a
runaway writer neither fills the server's memory nor the database. A process stopped by
one of the sandbox's limits faults the task with an error naming the limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from flowapp.dsl import errors
from flowapp.engine.commands import RunProcess
from flowapp.runtime.effects.base import EffectError
from flowapp.sandbox import Limits, Sandbox, stopped_by

_INTERPRETERS = {
    "js": ["node", "-e"],
    "javascript": ["node", "-e"],
    "python": [sys.executable, "-c"],
}
_CHUNK = 1 << 16
# How long a process may take to be gone after SIGKILL (longer means the kernel is stuck on
# it, e.g. in uninterruptible I/O): the task faults rather than waiting for ever.
KILL_WAIT = 10.0
NO_APP = "flowapp-workflows"  # the user of workflows that belong to no app
# The kinds of process an app may run, given its name (None: a workflow of no app).
AllowedRuns = Callable[[str | None], Awaitable[frozenset[str]]]


def argv_for(command: RunProcess) -> list[str]:
    if command.process == "shell":
        # `sh -c CODE name args...`: the arguments become $1, $2 ... as the spec's examples use.
        return ["sh", "-c", command.code, "flowapp", *command.arguments]
    interpreter = _INTERPRETERS.get((command.language or "").lower())
    if interpreter is None:
        detail = f"script language `{command.language}` is not supported (use js or python)"
        raise EffectError(errors.error(errors.CONFIGURATION, detail))
    if interpreter[0] == "node":
        return [*interpreter, command.code, "--", *command.arguments]
    return [*interpreter, command.code, *command.arguments]


def refusal(kind: str, app: str | None) -> dict[str, Any]:
    """The error of a ``run: <kind>`` that its app may not run."""
    where = f"for app {app}" if app else "for workflows outside an app"
    detail = (
        f"run: {kind} is disabled on this platform {where}: an admin can allow it for every "
        f"app (flowapp up --allow-run {kind}) or for this one (flowapp allow-run APP {kind})"
    )
    return errors.error(errors.AUTHORIZATION, detail, title="Process Kind Not Allowed")


class ProcessEffects:
    def __init__(
        self,
        *,
        timeout: float = 300.0,
        sandbox: Sandbox | None = None,
        allowed: AllowedRuns | None = None,
        output_bytes: int | None = None,
    ) -> None:
        self.timeout = timeout
        self.sandbox = sandbox or Sandbox("off")
        self.allowed = allowed
        limits = self.sandbox.limits or Limits()
        self.output_bytes = output_bytes or limits.output_bytes

    async def run(self, command: RunProcess, *, app: str | None = None) -> dict[str, Any]:
        if self.allowed is not None and command.process not in await self.allowed(app):
            raise EffectError(refusal(command.process, app))
        argv = argv_for(command)
        readable = [Path(sys.prefix), Path(sys.base_prefix)] if argv[0] == sys.executable else []
        spawn = self.sandbox.spawn(
            argv, app=app or NO_APP, env=command.environment, readable=readable
        )
        try:
            process = await asyncio.create_subprocess_exec(
                *spawn.argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
                **spawn.popen_args(),
            )
        except OSError as exc:
            raise EffectError(
                errors.error(errors.RUNTIME, f"cannot start {argv[0]}: {exc}")
            ) from None
        stdin = command.stdin.encode() if command.stdin is not None else None
        try:
            async with asyncio.timeout(self.timeout):
                stdout, stderr = await self._communicate(process, stdin)
        except TimeoutError:
            raise EffectError(
                errors.error(errors.TIMEOUT, f"the process ran past {self.timeout:g} s")
            ) from None
        finally:
            await _kill(process)
        return self._answer(process.returncode, stdout, stderr)

    async def _communicate(
        self, process: asyncio.subprocess.Process, stdin: bytes | None
    ) -> tuple[str, str]:
        assert process.stdin and process.stdout and process.stderr  # PIPE above
        readers = [
            asyncio.create_task(self._read(process.stdout, "stdout")),
            asyncio.create_task(self._read(process.stderr, "stderr")),
        ]
        work: list[asyncio.Task[Any]] = [*readers, asyncio.create_task(_feed(process.stdin, stdin))]
        try:
            stdout, stderr = await asyncio.gather(*readers)
            await process.wait()
        finally:  # one stream over its limit, or a timeout: the others stop too
            for task in work:
                task.cancel()
            await asyncio.gather(*work, return_exceptions=True)
        return stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace")

    async def _read(self, stream: asyncio.StreamReader, name: str) -> bytes:
        data = bytearray()
        while chunk := await stream.read(_CHUNK):
            data += chunk
            if len(data) > self.output_bytes:
                detail = (
                    f"the process wrote more than {self.output_bytes:,} bytes to {name} "
                    "(the output limit of run processes): it was stopped"
                )
                raise EffectError(errors.error(errors.RUNTIME, detail, status=413))
        return bytes(data)

    def _answer(self, code: int | None, stdout: str, stderr: str) -> dict[str, Any]:
        limits = self.sandbox.limits
        reason = stopped_by(code, stderr, limits) if limits is not None else None
        if reason is not None:
            tail = stderr.strip()[-500:]
            detail = f"the process was stopped by {reason}" + (f": {tail}" if tail else "")
            raise EffectError(errors.error(errors.RUNTIME, detail))
        return {"code": code, "stdout": stdout, "stderr": stderr}


async def _feed(pipe: asyncio.StreamWriter, data: bytes | None) -> None:
    with contextlib.suppress(ConnectionError):
        if data:
            pipe.write(data)
            await pipe.drain()
        pipe.close()


async def _kill(process: asyncio.subprocess.Process, *, within: float = KILL_WAIT) -> None:
    """Whatever is left of the process and its session: gone (in bubblewrap, bwrap's death
    also ends the PID namespace, and every process in it)."""
    from flowapp.functions.instance import close_pipes  # beside aiohttp: load it only here

    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    # asyncio's ``wait()`` returns only once the process exited *and* each of its pipes saw
    # EOF. A stream over its limit is left unread: its transport pauses reading once its
    # buffer is full and never reaches the EOF, and a descendant that left the session keeps
    # a pipe open; either way ``wait()`` never returned, on a loop with nothing else to do.
    # The output is not wanted any more: our ends of the pipes are closed first.
    _close_pipe_ends(process)
    try:
        await asyncio.wait_for(process.wait(), within)
    except TimeoutError:
        detail = (
            f"the process {process.pid} did not exit within {within:g} s of SIGKILL "
            "to its process group"
        )
        raise EffectError(errors.error(errors.RUNTIME, detail)) from None
    finally:
        close_pipes(process)


def _close_pipe_ends(process: asyncio.subprocess.Process) -> None:
    transport = getattr(process, "_transport", None)  # asyncio keeps it private
    if transport is None:
        return
    for fd in (0, 1, 2):
        pipe = transport.get_pipe_transport(fd)
        if pipe is not None:
            pipe.close()
