"""One FlowApp running on this machine.

    triggers --CloudEvent--> sink --start_execution (durable)--> runtime --call--> supervisor

The sink returns only once the execution is durably created, so a trigger acknowledges a
message only then; a redelivered message finds its execution by dedupe key and is
acknowledged without starting a second one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from flowapp.apps.model import FlowApp
from flowapp.functions.supervisor import Supervisor
from flowapp.runtime.registry import LoadedWorkflow
from flowapp.runtime.runtime import Runtime
from flowapp.store.port import DuplicateExecution
from flowapp.triggers.base import Trigger, TriggerConfig
from flowapp.triggers.registry import build_trigger

log = logging.getLogger(__name__)
Sink = Callable[[dict[str, Any]], Awaitable[None]]


def execution_input(config: TriggerConfig, event: dict[str, Any]) -> Any:
    """The event's data, or the whole event with ``read: envelope``."""
    if getattr(config, "read", "data") == "envelope":
        return event
    if "data_base64" in event:
        return event["data_base64"]
    return event.get("data")


class LocalApp:
    def __init__(
        self,
        app: FlowApp,
        runtime: Runtime,
        *,
        revision: str | None = None,
        metrics: CollectorRegistry | None = None,
        log_dir: Path | None = None,
        triggers: bool = True,
    ) -> None:
        self.app = app
        self.runtime = runtime
        self.revision = revision
        self.supervisor = Supervisor(
            app.functions.values(),
            app=app.name,
            revision=revision or "",
            registry=metrics,
            log_dir=log_dir,
        )
        self.with_triggers = triggers
        self.triggers: list[Trigger] = []
        self.workflow: LoadedWorkflow | None = None

    async def start(self) -> None:
        await self.supervisor.start()
        self.workflow = self.runtime.registry.add(
            self.app.workflow,
            app_functions=frozenset(self.app.functions),
            app=self.app.name,
            revision=self.revision,
            limits=self.app.limits,
        )
        if self.with_triggers:
            for config in self.app.triggers:
                trigger = build_trigger(config)
                await trigger.start(self.sink_for(config))
                self.triggers.append(trigger)

    async def stop(self) -> None:
        for trigger in self.triggers:
            with contextlib.suppress(Exception):
                await trigger.stop(drain_timeout=5.0)
        self.triggers.clear()
        await self.supervisor.stop()

    def sink_for(self, config: TriggerConfig) -> Sink:
        async def sink(event: dict[str, Any]) -> None:
            key = f"{self.app.name}/{config.name}/{event.get('source', '')}/{event['id']}"
            await self.start_execution(execution_input(config, event), dedupe_key=key)

        return sink

    async def start_execution(self, input: Any, *, dedupe_key: str | None = None) -> str:
        """Start an execution durably; with a dedupe key seen before, return that one."""
        assert self.workflow is not None, "start() first"
        try:
            return await self.runtime.start_execution(
                self.workflow,
                input,
                app=self.app.name,
                revision=self.revision,
                dedupe_key=dedupe_key,
            )
        except DuplicateExecution as duplicate:
            return duplicate.existing_id

    def status(self) -> dict[str, Any]:
        return {
            "functions": {name: status for name, status in self.supervisor.status().items()},
            "triggers": {t.name: t.status() for t in self.triggers},
        }

    async def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait until every function with instances wanted is ready (or failing)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            states = [getattr(s, "state", "ready") for s in self.supervisor.status().values()]
            if all(str(state) in ("ready", "scaled-to-zero", "failing") for state in states):
                return
            await asyncio.sleep(0.05)
