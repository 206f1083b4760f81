"""An execution held in memory by this process, and the checkpoint of a decision.

A live execution has an inbox of signals and is advanced by one pump at a time: the pump
takes every signal waiting, decides them in order, commits one checkpoint for all of
them, and only then carries out the commands (the outbox rule). Timers and subscriptions
are mirrored into their own tables so that other processes and restarts can find them.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from flowapp.engine.commands import (
    Command,
    EmitEvent,
    RunProcess,
    StartTimer,
    StartWorkflow,
    Subscribe,
)
from flowapp.engine.records import Decision, TaskRun
from flowapp.engine.signals import Signal
from flowapp.engine.state import ExecutionState
from flowapp.runtime.registry import LoadedWorkflow
from flowapp.runtime.sealing import NONE, KnownSecrets, seal_state
from flowapp.store.port import Checkpoint, SubscriptionRecord, TaskRunRecord, TimerRecord


@dataclass(slots=True)
class LiveExecution:
    workflow: LoadedWorkflow
    state: ExecutionState
    inbox: deque[tuple[Signal, int | None]] = field(default_factory=deque)
    pumping: bool = False
    inflight: dict[str, asyncio.Task[Any]] = field(default_factory=dict)
    timers: set[str] = field(default_factory=set)
    subscriptions: set[str] = field(default_factory=set)
    # Set when a retry moved the execution to another revision's workflow: the next
    # checkpoint records the move (the stored row still names the old one).
    moved: bool = False

    @property
    def id(self) -> str:
        return self.state.execution_id


def fire_and_forget(command: Command) -> bool:
    """Commands nobody answers: they go through the outbox table, not the state."""
    if isinstance(command, EmitEvent):
        return True
    return isinstance(command, (StartWorkflow, RunProcess)) and not command.wait


def task_run_record(
    execution_id: str,
    run: TaskRun,
    known: KnownSecrets = NONE,
    *,
    revision: str | None = None,
) -> TaskRunRecord:
    """The record of a task run, with known secret values masked (``sealing.py``), naming
    the app ``revision`` it ran on."""
    record = TaskRunRecord.of(execution_id, run, revision=revision)
    if known:
        record.input = known.mask(run.input)
        record.output = known.mask(run.output)
        record.error = known.mask(run.error)
    return record


def outbox_payload(command: Command, known: KnownSecrets) -> dict[str, Any]:
    """A fire-and-forget command as the outbox keeps it: sealed, with its references."""
    return seal_state(command.to_json(), known)


def _saved_state(
    state: ExecutionState, known: KnownSecrets, snapshot: bytes | None
) -> dict[str, Any] | orjson.Fragment:
    """The state as the store keeps it: sealed when the workflow knows secrets, else the
    JSON a decider process encoded already (written as it is), else encoded here."""
    if snapshot is not None and not known:
        return orjson.Fragment(snapshot)
    return seal_state(state.to_json(), known)


def build_checkpoint(
    live: LiveExecution,
    decisions: Sequence[Decision],
    *,
    now: float,
    owner: str | None,
    signals_consumed: Sequence[int] = (),
    known: KnownSecrets = NONE,
    snapshot: bytes | None = None,
) -> Checkpoint:
    """Everything the decisions changed, mirrored timers and subscriptions included. The
    values of ``known`` secrets are sealed in the state and the outbox, and masked in
    task runs and in the execution's error. ``snapshot``: the state already encoded as
    JSON, written as it is when there is nothing to seal."""
    state = live.state
    runs: dict[int, TaskRun] = {}
    outbox: list[dict[str, Any]] = []
    for decision in decisions:
        for run in decision.task_runs:
            runs[run.id] = run
        outbox.extend(outbox_payload(c, known) for c in decision.commands if fire_and_forget(c))
    timers_now = {k for k, e in state.effects.items() if e.command.kind == StartTimer.kind}
    subs_now = {k for k, e in state.effects.items() if e.command.kind == Subscribe.kind}
    checkpoint = Checkpoint(
        execution_id=state.execution_id,
        status=state.status,
        state=_saved_state(state, known, snapshot),
        updated_at=now,
        started_at=state.started_at or None,
        output=state.output,  # what the workflow chose to return, as it returned it
        error=known.mask(state.error),
        ended_at=state.ended_at,
        task_runs=[
            task_run_record(state.execution_id, run, known, revision=live.workflow.revision)
            for run in runs.values()
        ],
        timers_added=[
            TimerRecord(state.execution_id, k, state.effects[k].command.due_at)  # type: ignore[attr-defined]
            for k in timers_now - live.timers
        ],
        timers_removed=sorted(live.timers - timers_now),
        subscriptions_added=[
            SubscriptionRecord(state.execution_id, k, state.effects[k].command.attributes)  # type: ignore[attr-defined]
            for k in subs_now - live.subscriptions
        ],
        subscriptions_removed=sorted(live.subscriptions - subs_now),
        outbox=outbox,
        signals_consumed=list(signals_consumed),
        owner=owner,
        workflow_id=live.workflow.id if live.moved else None,
        revision=live.workflow.revision if live.moved else None,
    )
    live.moved = False
    live.timers = timers_now
    live.subscriptions = subs_now
    return checkpoint
