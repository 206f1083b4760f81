"""Run one workflow to completion in this process (``flowapp run``).

Events given up front are offered, in order, whenever the execution listens. Once none
is left, an execution that waits for nothing but events can never go on (nothing else
in this process publishes any): it is cancelled with a reason that names each task
waiting and what it waits for, ending in ``NO_MORE_EVENTS``, instead of waiting forever.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from flowapp.engine.commands import Subscribe
from flowapp.engine.scope import Environment
from flowapp.runtime.deciders.base import Decider
from flowapp.runtime.dispatch import Effects
from flowapp.runtime.live import LiveExecution
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
    runtime = Runtime(
        store, registry=registry, effects=effects, env=env, decider=decider, lifecycle=lifecycle
    )
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


NO_MORE_EVENTS = "and no event is left to offer"
POLL_SECONDS = 0.01
SETTLE_SECONDS = 0.2  # waiting for events only, this long: an emit in flight has landed


async def _feed_events(runtime: Runtime, execution_id: str, events: list[dict[str, Any]]) -> None:
    """Offer each event once the execution listens, one at a time, in order; then cancel
    it if it waits for events only."""
    while events:
        if runtime.router.listens(execution_id):
            await runtime.publish_event(events.pop(0))
        await asyncio.sleep(POLL_SECONDS)
    stuck_since: float | None = None
    loop = asyncio.get_running_loop()
    while True:
        waits = await _waiting_for_events_only(runtime, execution_id)
        if not waits:
            stuck_since = None
        elif stuck_since is None:
            stuck_since = loop.time()
        elif loop.time() - stuck_since >= SETTLE_SECONDS:
            await runtime.cancel(execution_id, f"{describe_waits(waits)} {NO_MORE_EVENTS}")
            return
        await asyncio.sleep(POLL_SECONDS)


async def _waiting_for_events_only(
    runtime: Runtime, execution_id: str
) -> list[tuple[str, list[dict[str, str]]]]:
    """``events_awaited``, once no event the execution emitted is still in the outbox: an
    emitted event is delivered (to the inbox) before its outbox row is marked done, so
    with the outbox read first, an event on its way is seen in one place or the other."""
    if not events_awaited(runtime.live.get(execution_id)):
        return []
    pending = await runtime.committer.run_in_writer(
        lambda: runtime.store.pending_outbox(limit=1000, owner=runtime.owner)
    )
    if any(item.execution_id == execution_id for item in pending):
        return []
    return events_awaited(runtime.live.get(execution_id))


def events_awaited(live: LiveExecution | None) -> list[tuple[str, list[dict[str, str]]]]:
    """What an execution waits for, as (task, filters) pairs, when all it waits for is
    events: no timer, no call in flight, no signal or work queued. Otherwise nothing."""
    if live is None or live.inbox or live.pumping or live.inflight:
        return []
    state = live.state
    effects = list(state.effects.values())
    if state.status != "waiting" or state.pending or not effects:
        return []
    waits = []
    for effect in effects:
        if not isinstance(effect.command, Subscribe):
            return []
        frame = state.frames.get(effect.frame)
        waits.append((frame.reference if frame else "/", effect.command.attributes))
    return waits


def describe_waits(waits: list[tuple[str, list[dict[str, str]]]]) -> str:
    """``task /do/0/wait waits for an event with type=order.placed`` (one clause each)."""
    clauses = []
    for reference, filters in waits:
        wanted = " or ".join(
            ", ".join(f"{key}={value}" for key, value in sorted(mapping.items()))
            for mapping in filters
            if mapping
        )
        what = f"an event with {wanted}" if wanted else "an event"
        clauses.append(f"task {reference} waits for {what}")
    return "; ".join(clauses)
