"""A revision of an app, running: its functions under a supervisor and its workflow known
to the runtime. Several revisions of one app may run at once (canary traffic, and old
revisions finishing the executions they started)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from flowapp.apps.model import FlowApp
from flowapp.functions.logs import LogLine
from flowapp.functions.port import FunctionCall
from flowapp.functions.scaling import FunctionStatus
from flowapp.runtime.registry import LoadedWorkflow, WorkflowRegistry

log = logging.getLogger(__name__)

_SETTLED = frozenset({"ready", "scaled-to-zero", "failing", "stopped"})
# In a revision's folder: the environment its spec was merged for ("" for none).
ENVIRONMENT_RECORD = ".flowapp-environment"


class RevisionFailed(Exception):
    """A revision's functions could not be built or did not become healthy."""


class RevisionFunctions(Protocol):
    """A revision's functions as its host runs them: on ``flowapp up``, the
    :class:`~flowapp.functions.supervisor.Supervisor`'s processes. Also the
    :class:`~flowapp.functions.port.FunctionCaller` the revision's executions call."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def call(self, call: FunctionCall) -> Any: ...

    def status(self) -> dict[str, FunctionStatus]: ...

    def logs(
        self, function: str, *, execution_id: str | None = None, limit: int = 100
    ) -> list[LogLine]: ...


# How a platform gets the functions of a revision it starts (app, revision id).
RunFunctions = Callable[[FlowApp, str], RevisionFunctions]


@dataclass
class RevisionHost:
    app: FlowApp
    revision: str
    supervisor: RevisionFunctions
    workflow: LoadedWorkflow

    @property
    def key(self) -> tuple[str, str]:
        return (self.app.name, self.revision)

    async def stop(self) -> None:
        await self.supervisor.stop()

    def failing(self) -> dict[str, str]:
        return {
            name: status.last_error or "failing"
            for name, status in self.supervisor.status().items()
            if status.state == "failing"
        }


async def start_revision(
    app: FlowApp,
    revision: str,
    registry: WorkflowRegistry,
    *,
    functions: RevisionFunctions,
    ready_timeout: float = 120.0,
) -> RevisionHost:
    """Build and start the functions, wait until they are healthy, register the workflow.
    Raises ``RevisionFailed`` (after stopping what started) when a function fails."""
    supervisor = functions
    try:
        await supervisor.start()
        await _settle(supervisor, ready_timeout)
        failing = {n: s.last_error for n, s in supervisor.status().items() if s.state == "failing"}
        if failing:
            reasons = "; ".join(f"{name}: {error}" for name, error in failing.items())
            raise RevisionFailed(f"functions failed to start: {reasons}")
    except BaseException:
        await supervisor.stop()
        raise
    workflow = await asyncio.to_thread(
        registry.add,
        app.workflow,
        app_functions=frozenset(app.functions),
        app=app.name,
        revision=revision,
        limits=app.limits,
    )
    return RevisionHost(app, revision, supervisor, workflow)


async def _settle(supervisor: RevisionFunctions, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        states = {status.state for status in supervisor.status().values()}
        if states <= _SETTLED:
            return
        await asyncio.sleep(0.05)
    raise RevisionFailed(f"functions were not ready within {timeout:g} s")
