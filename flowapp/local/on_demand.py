"""Calls to the functions of a revision that is not running here: it is started first.

An execution runs on the revision it started on (or that a retry moved it to). When that
revision is not running in this process, because it lost its traffic and the janitor
stopped it, because ``flowapp up`` restarted and starts only revisions with traffic,
or because the process is still starting (the runtime recovers executions first), a
call waits for the platform to have started, then starts the revision from its folder
and calls the function. A revision that cannot be started (its folder is gone with a
deleted app, or its functions fail) answers as an unavailable function: 503, retryable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from flowapp.dsl.problems import DefinitionError
from flowapp.functions.errors import FunctionUnavailable
from flowapp.functions.port import FunctionCall
from flowapp.local.revisions import RevisionFailed, RevisionHost

StartRevision = Callable[[], Awaitable[RevisionHost]]


class RevisionCaller:
    """A ``FunctionCaller`` for one revision that starts it on the first call."""

    def __init__(self, app: str, revision: str, started: asyncio.Event, start: StartRevision):
        self.app = app
        self.revision = revision
        self.started = started
        self.start = start

    async def call(self, call: FunctionCall) -> Any:
        await self.started.wait()
        try:
            host = await self.start()
        except (RevisionFailed, DefinitionError, OSError) as exc:
            reason = f"revision {self.revision} of {self.app} cannot be started: {exc}"
            raise FunctionUnavailable(call.function, reason) from None
        return await host.supervisor.call(call)
