"""A revision of an app, running: its functions under a supervisor and its workflow known
to the runtime. Several revisions of one app may run at once (canary traffic, and old
revisions finishing the executions they started)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flowapp.apps.model import FlowApp
from flowapp.functions.metrics import FunctionMetrics
from flowapp.functions.supervisor import Supervisor
from flowapp.runtime.registry import LoadedWorkflow, WorkflowRegistry
from flowapp.sandbox import Sandbox

log = logging.getLogger(__name__)

_SETTLED = frozenset({"ready", "scaled-to-zero", "failing", "stopped"})
# In a revision's folder: the environment its spec was merged for ("" for none).
ENVIRONMENT_RECORD = ".flowapp-environment"


class RevisionFailed(Exception):
    """A revision's functions could not be built or did not become healthy."""


@dataclass
class RevisionHost:
    app: FlowApp
    revision: str
    supervisor: Supervisor
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
    metrics: FunctionMetrics | None,
    log_dir: Path | None,
    ready_timeout: float = 120.0,
    redact: Callable[[str], str] | None = None,
    sandbox: Sandbox | None = None,
    build_cache: Path | None = None,
) -> RevisionHost:
    """Build and start the functions, wait until they are healthy, register the workflow.
    Raises ``RevisionFailed`` (after stopping what started) when a function fails."""
    supervisor = Supervisor(
        app.functions.values(),
        app=app.name,
        revision=revision,
        metrics=metrics,
        log_dir=log_dir,
        redact=redact,
        sandbox=sandbox,
        build_cache=build_cache,
    )
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


async def _settle(supervisor: Supervisor, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        states = {status.state for status in supervisor.status().values()}
        if states <= _SETTLED:
            return
        await asyncio.sleep(0.05)
    raise RevisionFailed(f"functions were not ready within {timeout:g} s")
