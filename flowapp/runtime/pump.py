"""The pump: decide every waiting signal of an execution, commit once, then dispatch.

    inbox --turn--> decisions --group commit--> checkpoint --dispatch--> commands

One pump at a time runs per execution (``LiveExecution.pumping``): it takes every
signal waiting, decides them in one turn (``turns.py``), commits one checkpoint through
the group committer, and only after the commit carries out the commands (the outbox
rule). An execution whose turn used up its step budget gets a ``Continue`` after a
pause, so one execution never holds the event loop for long. The first turn of a new
execution (``begin``) creates its record in the same commit.

This is the hot path of the runtime: every step of every execution goes through
``_pump``, so it keeps its lookups local and allocates nothing it does not save.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flowapp.dsl import errors
from flowapp.engine.commands import Command
from flowapp.engine.lifecycle import lifecycle_events
from flowapp.engine.records import Decision
from flowapp.engine.signals import Continue, Signal
from flowapp.engine.state import FAULTED
from flowapp.runtime import logcontext
from flowapp.runtime.committer import GroupCommitter
from flowapp.runtime.deciders.base import DeciderClosed
from flowapp.runtime.environments import Environments
from flowapp.runtime.executions import LiveExecutions
from flowapp.runtime.live import LiveExecution, build_checkpoint
from flowapp.runtime.metrics import RuntimeMetrics
from flowapp.runtime.timers import Timers
from flowapp.runtime.turns import Turns
from flowapp.store.port import ExecutionRecord, LeaseLost, StoreError

if TYPE_CHECKING:
    from flowapp.runtime.dispatch import Dispatcher
    from flowapp.runtime.tracing import Tracing

log = logging.getLogger("flowapp.runtime.runtime")

CONTINUE_PAUSE = 0.05  # seconds, at most, between two turns of an execution that never waits

# Receives the lifecycle CloudEvents of every decision.
LifecycleHook = Callable[[list[dict[str, Any]]], None]


class Pump:
    def __init__(
        self,
        executions: LiveExecutions,
        turns: Turns,
        committer: GroupCommitter,
        *,
        timers: Timers,
        environments: Environments,
        owner: str,
        clock: Callable[[], float],
        wake_outbox: Callable[[], None],
        metrics: RuntimeMetrics | None = None,
        tracing: Tracing | None = None,
        lifecycle: LifecycleHook | None = None,
    ) -> None:
        self._executions = executions
        self._held = executions.held
        self._turns = turns
        self._committer = committer
        self._timers = timers
        self._environments = environments
        self._owner = owner
        self._clock = clock
        self._wake_outbox = wake_outbox
        self._metrics = metrics
        self._tracing = tracing
        self._lifecycle = lifecycle
        self._dispatch: Callable[[LiveExecution, Command], None] = _not_connected

    def dispatch_with(self, dispatcher: Dispatcher) -> None:
        """Carry out committed commands with ``dispatcher``. Not a constructor argument:
        the dispatcher answers into this pump (``deliver``) and starts sub-workflows
        through the launcher, which runs their first turn here, so it is built after."""
        self._dispatch = dispatcher.dispatch

    def deliver(self, execution_id: str, signal: Signal, signal_id: int | None = None) -> bool:
        """Queue a signal for an execution this process holds; False if it holds none."""
        live = self._held.get(execution_id)
        if live is None:
            return False
        live.inbox.append((signal, signal_id))
        self.pump_if_needed(live)
        return True

    def pump_if_needed(self, live: LiveExecution) -> None:
        if live.inbox and not live.pumping:
            live.pumping = True
            asyncio.get_running_loop().create_task(self._pump(live))

    async def begin(
        self,
        live: LiveExecution,
        start: Signal,
        now: float,
        record_of: Callable[[str], ExecutionRecord],
    ) -> None:
        """Decide a new execution's first turn and create it durably with its record
        (``record_of`` its status after the turn), then carry out what it decided.
        Raises whatever the store raises on creation (``DuplicateExecution`` ...), and
        the execution is then not held."""
        step_began = time.perf_counter()
        began = time.thread_time()
        turn = await self._turns.take(live, [start], now)
        decisions = turn.decisions
        announcements = self._announce(live, decisions, None)
        checkpoint = build_checkpoint(
            live,
            decisions,
            now=now,
            owner=None,
            known=self._environments.known_secrets(live.workflow),
            snapshot=turn.snapshot,
        )
        live.pumping = True  # answers queue up until the execution exists
        self._held[live.id] = live
        try:
            await self._committer.create(record_of(live.state.status), checkpoint)
        except BaseException:
            del self._held[live.id]
            raise
        self._stepped(live, step_began)
        commands = [c for d in decisions for c in d.commands]
        self._after_commit(live, commands, announcements, time.thread_time() - began)
        live.pumping = False
        self.pump_if_needed(live)

    async def revive(self, live: LiveExecution, signal: Signal) -> None:
        """Hold an ended execution again and decide ``signal`` (a retry) at once, returning
        once that turn is committed: whoever asked reads the execution running, not the
        end it had, and a client waiting for it to end does not stop at the old one.
        Raises ``LeaseLost`` when another process took the execution before that commit
        (it is retrying it too)."""
        live.pumping = True
        live.inbox.append((signal, None))
        self._held[live.id] = live
        if await self._pump(live):
            raise LeaseLost([live.id])

    async def _pump(self, live: LiveExecution) -> bool:
        """Decide and commit until the inbox is empty. True when the lease was lost to
        another process before any turn was committed here."""
        held = self._held
        committed = False
        try:
            if logcontext.enabled():  # the pump's log lines are about this execution
                logcontext.note(live.id, live.state.trace)
            while live.inbox and held.get(live.id) is live:
                items = list(live.inbox)
                live.inbox.clear()
                now = self._clock()
                step_began = time.perf_counter()
                began = time.thread_time()
                previous = live.state.status
                try:
                    turn = await self._turns.take(live, [s for s, _ in items], now)
                except DeciderClosed:
                    return False  # stopping: it goes on from its last checkpoint
                if held.get(live.id) is not live:
                    return not committed  # forgotten while being decided (lease lost)
                decisions = turn.decisions
                announcements = self._announce(live, decisions, previous)
                consumed = [signal_id for _, signal_id in items if signal_id is not None]
                checkpoint = build_checkpoint(
                    live,
                    decisions,
                    now=now,
                    owner=self._owner,
                    signals_consumed=consumed,
                    known=self._environments.known_secrets(live.workflow),
                    snapshot=turn.snapshot,
                )
                try:
                    await self._committer.commit(checkpoint)
                except LeaseLost:
                    log.warning("lost the lease of execution %s; another process has it", live.id)
                    self._executions.forget(live)
                    return not committed
                except StoreError as exc:
                    await self._fault_unsaveable(live, exc)
                    return False
                committed = True
                self._stepped(live, step_began)
                commands = [cmd for d in decisions for cmd in d.commands]
                self._after_commit(live, commands, announcements, time.thread_time() - began)
        finally:
            live.pumping = False
        self.pump_if_needed(live)
        return False

    def _stepped(self, live: LiveExecution, began: float) -> None:
        if self._metrics is not None:
            self._metrics.stepped(live.workflow, time.perf_counter() - began)

    async def _fault_unsaveable(self, live: LiveExecution, exc: Exception) -> None:
        """The store refused this execution's data: fault it rather than stall it."""
        log.error("cannot save execution %s: %s", live.id, exc)
        state = live.state
        state.frames.clear()
        state.effects.clear()
        state.output = None
        state.error = errors.error(errors.RUNTIME, f"the execution could not be saved: {exc}")
        state.status = FAULTED
        state.ended_at = self._clock()
        checkpoint = build_checkpoint(
            live,
            [],
            now=self._clock(),
            owner=self._owner,
            known=self._environments.known_secrets(live.workflow),
        )
        try:
            await self._committer.commit(checkpoint)
        except Exception:
            log.exception("cannot record the fault of execution %s either", live.id)
        self._executions.finish(live)

    def _announce(
        self, live: LiveExecution, decisions: list[Decision], previous: str | None
    ) -> list[dict[str, Any]]:
        """Metrics and lifecycle events of a turn's decisions, in order."""
        announcements: list[dict[str, Any]] = []
        for decision in decisions:
            announcements += self._lifecycle_of(live, decision, previous)
            if decision.transitions:
                previous = decision.transitions[-1].status
        return announcements

    def _lifecycle_of(
        self, live: LiveExecution, decision: Decision, previous: str | None
    ) -> list[dict[str, Any]]:
        if self._metrics is not None:
            self._metrics.observe(live.workflow, decision)
        if self._tracing is not None:
            self._tracing.observe(live, decision)
        if self._lifecycle is None:
            return []
        return lifecycle_events(live.workflow.model, decision, previous_status=previous)

    def _after_commit(
        self,
        live: LiveExecution,
        commands: list[Command],
        announcements: list[dict[str, Any]],
        took: float = 0.0,
    ) -> None:
        if announcements and self._lifecycle is not None:
            self._lifecycle(announcements)
        dispatch = self._dispatch
        for command in commands:
            dispatch(live, command)
        if any(c.kind in ("emit-event", "start-workflow", "run-process") for c in commands):
            self._wake_outbox()
        if live.state.is_final:
            self._executions.finish(live)
        elif live.state.has_pending_work:  # the turn used up its budget: go on later
            self._continue_later(live, took)

    def _continue_later(self, live: LiveExecution, took: float) -> None:
        """Go on with an execution whose turn used up its budget after a pause as long as
        the CPU time this thread spent meanwhile (``took``, at most ``CONTINUE_PAUSE``): an
        execution that never waits, such as an endless loop, gets at most about half of
        the event loop, whatever it asks."""
        if live.inbox:  # a signal is waiting already: it goes on with the work first
            return
        pause = min(max(took, 0.0), CONTINUE_PAUSE)
        self._timers.arm(
            live.id,
            "continue",
            self._clock() + pause,
            lambda: self.deliver(live.id, Continue()),
        )


def _not_connected(live: LiveExecution, command: Command) -> None:
    raise RuntimeError("the pump dispatches nothing before its dispatcher is connected")
