"""Run one workflow to completion in this process (``flowapp run``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from flowapp.engine.scope import Environment
from flowapp.runtime.deciders.base import Decider
from flowapp.runtime.dispatch import Effects
from flowapp.runtime.registry import LoadedWorkflow, WorkflowRegistry
from flowapp.runtime.runtime import Outcome, Runtime
from flowapp.store.port import Store


async def run_to_completion(
    store: Store,
    registry: WorkflowRegistry,
    workflow: LoadedWorkflow,
    input: Any,
    *,
    effects: Effects | None = None,
    env: Environment | None = None,
    events: Sequence[dict[str, Any]] = (),
    timeout: float | None = None,
    lifecycle: Callable[[list[dict[str, Any]]], None] | None = None,
    decider: Decider | None = None,
) -> tuple[str, Outcome]:
    """Start an execution, offer it ``events`` whenever it listens, and wait for its end."""
    runtime = Runtime(store, registry=registry, effects=effects, env=env, decider=decider)
    runtime.lifecycle = lifecycle
    await runtime.start(recover=False)
    try:
        execution_id = await runtime.start_execution(workflow, input)
        feeder = asyncio.create_task(_feed_events(runtime, execution_id, list(events)))
        try:
            outcome = await runtime.wait_for(execution_id, timeout)
        finally:
            feeder.cancel()
        return execution_id, outcome
    finally:
        await runtime.stop()


async def _feed_events(runtime: Runtime, execution_id: str, events: list[dict[str, Any]]) -> None:
    """Offer each event once the execution listens, one at a time, in order."""
    while events:
        if runtime.router.listens(execution_id):
            await runtime.publish_event(events.pop(0))
        await asyncio.sleep(0.01)
