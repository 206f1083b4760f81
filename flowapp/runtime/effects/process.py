"""``run: shell`` and ``run: script``: a process on this machine, answered with
``{code, stdout, stderr}``. Scripts run with ``node`` (js) or this Python (python)."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from flowapp.dsl import errors
from flowapp.engine.commands import RunProcess
from flowapp.runtime.effects.base import EffectError

_INTERPRETERS = {
    "js": ["node", "-e"],
    "javascript": ["node", "-e"],
    "python": [sys.executable, "-c"],
}


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


class ProcessEffects:
    def __init__(self, *, timeout: float = 300.0) -> None:
        self.timeout = timeout

    async def run(self, command: RunProcess) -> dict[str, Any]:
        argv = argv_for(command)
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env={**os.environ, **command.environment},
            )
        except OSError as exc:
            raise EffectError(
                errors.error(errors.RUNTIME, f"cannot start {argv[0]}: {exc}")
            ) from None
        stdin = command.stdin.encode() if command.stdin is not None else None
        try:
            stdout, stderr = await asyncio.wait_for(process.communicate(stdin), self.timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise EffectError(
                errors.error(errors.TIMEOUT, f"the process ran past {self.timeout:g} s")
            ) from None
        return {
            "code": process.returncode,
            "stdout": stdout.decode("utf-8", "replace"),
            "stderr": stderr.decode("utf-8", "replace"),
        }
