"""The runtime: the shell around the pure engine.

    signal -> decide (in memory) -> commit state + outbox (one transaction) -> dispatch

Each execution this process holds lives in memory with an inbox; a pump decides every
waiting signal, commits one checkpoint through the group committer, then carries out the
commands. After a crash, ``recover`` takes the executions back from the store and carries
out every effect the saved state still waits for (calls are sent again with the same
idempotency key, timers are re-armed, subscriptions re-registered).

Several processes can share one PostgreSQL database: each holds a lease on the
executions it advances, renews it, and takes over executions whose lease expired (the
loops that do so are in ``upkeep.py``).

Deciding is delegated to a decider (``deciders``): in process by default, in worker
processes for a shared server. A turn has a step budget: an execution with work left
after it gets a ``Continue`` at the back of its inbox, so one pump turn never holds the
loop for long, and every turn is held to the execution's limits (``turns.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from flowapp.dsl import errors
from flowapp.engine import new_state
from flowapp.engine.commands import StartWorkflow
from flowapp.engine.lifecycle import lifecycle_events
from flowapp.engine.records import Decision
from flowapp.engine.scope import Environment
from flowapp.engine.signals import (
    Cancel,
    Continue,
    EventArrived,
    Resume,
    RetryFailed,
    Signal,
    Start,
    Suspend,
    signal_to_json,
)
from flowapp.engine.state import COMPLETED, FAULTED, SKIPPED
from flowapp.functions.tracecontext import CURRENT as CURRENT_TRACE
from flowapp.functions.tracecontext import inbound_traceparent
from flowapp.runtime import logcontext
from flowapp.runtime.committer import GroupCommitter
from flowapp.runtime.deciders.base import Decider, DeciderClosed
from flowapp.runtime.deciders.inprocess import InProcessDecider
from flowapp.runtime.dispatch import Dispatcher, Effects
from flowapp.runtime.effects.base import EffectError
from flowapp.runtime.ids import new_execution_id
from flowapp.runtime.journal import DecisionJournal
from flowapp.runtime.limits import Limits
from flowapp.runtime.live import LiveExecution, build_checkpoint
from flowapp.runtime.metrics import RuntimeMetrics
from flowapp.runtime.registry import LoadedWorkflow, WorkflowRegistry
from flowapp.runtime.routing import EventRouter
from flowapp.runtime.sealing import NONE, KnownSecrets, unseal_state
from flowapp.runtime.timers import Timers
from flowapp.runtime.turns import take_turn
from flowapp.runtime.upkeep import UnknownExecution, Upkeep
from flowapp.store.port import (
    Checkpoint,
    DuplicateExecution,
    ExecutionRecord,
    LeaseLost,
    Store,
    StoreError,
)

if TYPE_CHECKING:
    from flowapp.runtime.tracing import Tracing

log = logging.getLogger(__name__)

CONTINUE_PAUSE = 0.05  # seconds, at most, between two turns of an execution that never waits


@dataclass(frozen=True, slots=True)
class Outcome:
    """How an execution ended (or where it stands, if ``wait_for`` timed out)."""

    id: str
    status: str
    output: Any = None
    error: dict[str, Any] | None = None

    @property
    def is_final(self) -> bool:
        return self.status in ("completed", "faulted", "cancelled")


class Runtime(Upkeep):
    def __init__(
        self,
        store: Store,
        *,
        registry: WorkflowRegistry | None = None,
        effects: Effects | None = None,
        env: Environment | None = None,
        owner: str = "local",
        clock: Callable[[], float] = time.time,
        lease_seconds: float = 30.0,
        poll_interval: float = 0.2,
        pickup_batch: int = 64,
        limits: Limits | None = None,
        inline_commits: bool | None = None,
        decider: Decider | None = None,
        journal: DecisionJournal | None = None,
        metrics: RuntimeMetrics | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self.store = store
        # OpenTelemetry spans of executions and task runs (``tracing.py``); None: none.
        self.tracing = tracing
        self.registry = registry or WorkflowRegistry(store)
        self.effects = effects or Effects()
        self.env = env or Environment()
        self.owner = owner
        self.clock = clock
        self.lease_seconds = lease_seconds
        self.poll_interval = poll_interval
        self.pickup_batch = pickup_batch
        self.limits = limits or Limits()
        self.decider: Decider = decider or InProcessDecider()
        # The environment of each app's decisions, the same object while its secrets stay
        # the same (a decider process is sent each environment once).
        self._envs: dict[str | None, tuple[Mapping[str, Any], Environment]] = {}
        self.journal = journal
        # Executions the previous process died deciding (from the journal), until adopted.
        self._suspects: set[str] = set()
        if inline_commits is None:  # a local file or memory: commit on the loop's thread
            inline_commits = bool(getattr(store, "writes_inline", False))
        self.metrics = metrics
        on_commit = metrics.committed if metrics is not None else None
        self.committer = GroupCommitter(store, inline=inline_commits, on_commit=on_commit)
        self.timers = Timers(clock, on_fire=metrics.timer_fired if metrics is not None else None)
        self.router = EventRouter()
        self.dispatcher = Dispatcher(self, self.effects)
        self.live: dict[str, LiveExecution] = {}
        self._waiters: dict[str, list[asyncio.Future[Outcome]]] = {}
        self._outbox_wakeup = asyncio.Event()
        self._background: list[asyncio.Task[None]] = []
        # Claimed and being adopted by one recovery loop; the others leave them alone.
        self._adopting: set[str] = set()
        self.on_finished: list[Callable[[LiveExecution], None]] = []
        # Receives the lifecycle CloudEvents of every decision, when someone wants them.
        self.lifecycle: Callable[[list[dict[str, Any]]], None] | None = None
        if metrics is not None:
            metrics.watch(lambda: self.live.values(), lambda: len(self.timers))
        # Set by ``start(scale_out=True)``: other processes hold executions of this store.
        self.shares_store = False
        # Each app's secrets (``flowapp up``); without it every workflow sees ``env.secrets``.
        self.secrets: Callable[[str | None], Mapping[str, Any]] | None = None
        self._known: dict[str, tuple[Mapping[str, Any], KnownSecrets]] = {}

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self, *, recover: bool = True, scale_out: bool = False) -> None:
        """``recover`` takes this owner's unfinished executions back; ``scale_out`` also
        picks up submitted executions and those of processes whose lease expired."""
        await self.committer.start()
        await self.decider.start()
        if self.journal is not None:
            self._suspects = self.journal.open()
        if recover:
            # Renew from the start and on a loop of its own: adopting a large backlog can
            # take longer than a lease, and an unrenewed lease is taken over by others.
            self._background.append(asyncio.create_task(self._keep_leases()))
            if scale_out:
                # Others' executions (submitted, or of a process that died) are picked up
                # a batch at a time below, shared with the other processes: a restart does
                # not take a whole backlog for itself.
                await self.recover_own()
            else:
                await self.recover()
        loops = [self._relay_outbox(), self._poll_signals()]
        self.shares_store = scale_out
        if scale_out:  # also takes over executions whose lease expired (``claim``)
            loops.append(self._pick_up_submitted())
        self._background += [asyncio.create_task(loop) for loop in loops]

    async def stop(self) -> None:
        for task in self._background:
            task.cancel()
        for task in self._background:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for live in list(self.live.values()):
            for task in live.inflight.values():
                task.cancel()
        self.timers.clear()
        await self.decider.close()
        if self.journal is not None:
            self.journal.close()
        await self.committer.stop()
        await self.effects.close()
        if self.tracing is not None:
            await asyncio.to_thread(self.tracing.close)

    def env_for(self, workflow: LoadedWorkflow) -> Environment:
        """What the engine is told for a decision of this workflow: its own app's secrets,
        never another app's."""
        if self.secrets is None:
            return self.env
        secrets = self.secrets(workflow.app)
        kept = self._envs.get(workflow.app)
        if kept is None or kept[0] is not secrets:  # one per app while its secrets stay
            kept = self._envs[workflow.app] = (secrets, replace(self.env, secrets=secrets))
        return kept[1]

    def known_secrets(self, workflow: LoadedWorkflow) -> KnownSecrets:
        """The values of the secrets ``workflow`` declares, to keep out of what is saved
        (``sealing.py``); built again only when its app's secrets change."""
        secrets = self.env_for(workflow).secrets
        kept = self._known.get(workflow.id)
        if kept is not None and kept[0] is secrets:
            return kept[1]
        declared = {n: secrets[n] for n in workflow.model.secrets if n in secrets}
        known = KnownSecrets(declared) if declared else NONE
        self._known[workflow.id] = (secrets, known)
        return known

    def app_secrets(self, app: str | None) -> KnownSecrets:
        """The values of all of an app's secrets (to mask in its functions' logs)."""
        secrets = self.secrets(app) if self.secrets is not None else self.env.secrets
        kept = self._known.get(f"app:{app}")
        if kept is not None and kept[0] is secrets:
            return kept[1]
        known = KnownSecrets(secrets) if secrets else NONE
        self._known[f"app:{app}"] = (secrets, known)
        return known

    def open_sealed(
        self, workflow: LoadedWorkflow, data: dict[str, Any], missing: list[str] | None = None
    ) -> dict[str, Any]:
        """A saved state or outbox command, with the secrets it refers to put back."""
        return unseal_state(data, self.env_for(workflow).secrets, missing)

    # --- starting and signalling --------------------------------------------------------

    async def start_execution(
        self,
        workflow: LoadedWorkflow,
        input: Any,
        *,
        app: str | None = None,
        revision: str | None = None,
        dedupe_key: str | None = None,
        parent_id: str | None = None,
        rerun_of: str | None = None,
    ) -> str:
        """Create an execution durably and start it; returns its id. Raises
        ``PayloadTooLarge`` for an input over the limit, ``DuplicateExecution`` when the
        dedupe key is taken."""
        self.limits.check_input(input)
        now = self.clock()
        step_began = time.perf_counter()
        execution_id = new_execution_id(now)
        live = LiveExecution(workflow, new_state(execution_id, workflow.limits))
        if self.tracing is not None or logcontext.enabled():
            # Started inside a trace (a request, a parent's task): the execution joins it.
            live.state.trace = inbound_traceparent(CURRENT_TRACE.get())
        began = time.thread_time()
        turn = await take_turn(self, live, [Start(input)], now)
        decisions = turn.decisions
        announcements = self._announce(live, decisions, None)
        record = ExecutionRecord(
            id=execution_id,
            workflow_id=workflow.id,
            status=live.state.status,
            input=input,
            created_at=now,
            started_at=now,
            app=app or workflow.app,
            revision=revision or workflow.revision,
            dedupe_key=dedupe_key,
            parent_id=parent_id,
            rerun_of=rerun_of,
            owner=self.owner,
            lease_until=now + self.lease_seconds,
        )
        checkpoint = build_checkpoint(
            live,
            decisions,
            now=now,
            owner=None,
            known=self.known_secrets(workflow),
            snapshot=turn.snapshot,
        )
        live.pumping = True  # answers queue up until the execution exists
        self.live[execution_id] = live
        try:
            await self.committer.create(record, checkpoint)
        except BaseException:
            del self.live[execution_id]
            raise
        self._stepped(live, step_began)
        commands = [c for d in decisions for c in d.commands]
        self._after_commit(live, commands, announcements, time.thread_time() - began)
        live.pumping = False
        self._pump_if_needed(live)
        return execution_id

    def deliver(self, execution_id: str, signal: Signal, signal_id: int | None = None) -> bool:
        """Queue a signal for an execution this process holds; False if it holds none."""
        live = self.live.get(execution_id)
        if live is None:
            return False
        live.inbox.append((signal, signal_id))
        self._pump_if_needed(live)
        return True

    async def send(self, execution_id: str, signal: Signal) -> None:
        """Signal an execution wherever it is held (through the store if not here)."""
        if self.deliver(execution_id, signal):
            return
        record = await self.committer.run_in_writer(self.store.get_execution, execution_id)
        if record is None:
            raise UnknownExecution(execution_id)
        await self.committer.run_in_writer(
            lambda: self.store.send_signal(execution_id, signal_to_json(signal), now=self.clock())
        )

    async def cancel(self, execution_id: str, reason: str = "cancelled by request") -> None:
        await self.send(execution_id, Cancel(reason))

    async def suspend(self, execution_id: str) -> None:
        await self.send(execution_id, Suspend())

    async def resume(self, execution_id: str) -> None:
        await self.send(execution_id, Resume())

    async def retry(self, execution_id: str, workflow: LoadedWorkflow | None = None) -> None:
        """Run a faulted execution again from the task that failed: the tasks that
        completed (or were skipped) are not run again: their outputs are replayed by
        occurrence.

        ``workflow``: go on with this workflow instead of the execution's own (a newer
        revision of its app, whose document still has every completed task at the same
        place; the caller checks that). Task runs from then on name its revision."""
        record, state = await self._load(execution_id)
        if record.status != FAULTED:
            raise ValueError(f"execution {execution_id} is {record.status}, not faulted")
        runs = await self.committer.run_in_writer(self.store.task_runs, execution_id)
        memo = {run.occurrence: run.output for run in runs if run.status in (COMPLETED, SKIPPED)}
        own = self._workflow(record.workflow_id)
        live = LiveExecution(workflow or own, state, moved=(workflow or own).id != own.id)
        self.live[execution_id] = live
        self.deliver(execution_id, RetryFailed(memo))

    async def rerun(
        self,
        execution_id: str,
        workflow: LoadedWorkflow | None = None,
        *,
        replace_input: bool = False,
        input: Any = None,
    ) -> str:
        """Start a new execution with the same input (or ``input``, with
        ``replace_input``), of the same workflow or of ``workflow`` (the app's revision
        that serves now)."""
        record = await self.committer.run_in_writer(self.store.get_execution, execution_id)
        if record is None:
            raise UnknownExecution(execution_id)
        chosen = workflow or self._workflow(record.workflow_id)
        return await self.start_execution(
            chosen,
            input if replace_input else record.input,
            app=record.app,
            revision=chosen.revision if workflow is not None else record.revision,
            rerun_of=execution_id,
        )

    async def wait_for(self, execution_id: str, timeout: float | None = None) -> Outcome:
        """The outcome once the execution ends, or its current status after ``timeout``."""
        if execution_id in self.live:
            future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
            self._waiters.setdefault(execution_id, []).append(future)
            try:
                return await asyncio.wait_for(asyncio.shield(future), timeout)
            except TimeoutError:
                return self._outcome_of_live(execution_id)
        return await self._poll_outcome(execution_id, timeout)

    async def publish_event(self, event: dict[str, Any]) -> None:
        """Publish an event: to the bus when there is one (which brings it back through
        ``offer_event``), else straight to the executions listening for it."""
        if self.effects.publish is not None:
            await self.effects.publish(event)
        else:
            await self.offer_event(event)

    async def offer_event(self, event: dict[str, Any]) -> int:
        """Offer an event to every execution listening for it; how many may want it.

        Those held here get it at once. When other processes share the store, an event
        reaches only one of them (the bus hands each event to one subscriber), so it is
        also queued through the store for the listening executions held elsewhere, or by
        nobody for now: whoever holds them picks it up as a signal."""
        if not self.shares_store:
            return self.route_event(event)
        held_here = set(self.live)  # before any await: these have been offered it here
        offered = self.route_event(event)
        matching = await self.committer.run_in_writer(self.store.subscriptions_matching, event)
        elsewhere = [sub for sub in matching if sub.execution_id not in held_here]
        if elsewhere:
            now = self.clock()

            def queue() -> None:
                for sub in elsewhere:
                    signal = signal_to_json(EventArrived(sub.effect_id, event))
                    self.store.send_signal(sub.execution_id, signal, now=now)

            await self.committer.run_in_writer(queue)
        return offered + len(elsewhere)

    def route_event(self, event: dict[str, Any]) -> int:
        """Offer an event to the executions listening here; how many may want it."""
        listeners = self.router.route(event)
        for listener in listeners:
            self.deliver(listener.execution_id, EventArrived(listener.effect_id, event))
        return len(listeners)

    # --- the pump -----------------------------------------------------------------------

    def _pump_if_needed(self, live: LiveExecution) -> None:
        if live.inbox and not live.pumping:
            live.pumping = True
            asyncio.get_running_loop().create_task(self._pump(live))

    async def _pump(self, live: LiveExecution) -> None:
        try:
            if logcontext.enabled():  # the pump's log lines are about this execution
                logcontext.note(live.id, live.state.trace)
            while live.inbox and self.live.get(live.id) is live:
                items = list(live.inbox)
                live.inbox.clear()
                now = self.clock()
                step_began = time.perf_counter()
                began = time.thread_time()
                previous = live.state.status
                try:
                    turn = await take_turn(self, live, [s for s, _ in items], now)
                except DeciderClosed:
                    return  # stopping: the execution goes on from its last checkpoint
                if self.live.get(live.id) is not live:
                    return  # forgotten while it was being decided (its lease was lost)
                decisions = turn.decisions
                announcements = self._announce(live, decisions, previous)
                consumed = [signal_id for _, signal_id in items if signal_id is not None]
                checkpoint = build_checkpoint(
                    live,
                    decisions,
                    now=now,
                    owner=self.owner,
                    signals_consumed=consumed,
                    known=self.known_secrets(live.workflow),
                    snapshot=turn.snapshot,
                )
                try:
                    await self.committer.commit(checkpoint)
                except LeaseLost:
                    log.warning("lost the lease of execution %s; another process has it", live.id)
                    self._forget(live)
                    return
                except StoreError as exc:
                    await self._fault_unsaveable(live, exc)
                    return
                self._stepped(live, step_began)
                commands = [cmd for d in decisions for cmd in d.commands]
                self._after_commit(live, commands, announcements, time.thread_time() - began)
        finally:
            live.pumping = False
        self._pump_if_needed(live)

    def _stepped(self, live: LiveExecution, began: float) -> None:
        if self.metrics is not None:
            self.metrics.stepped(live.workflow, time.perf_counter() - began)

    async def _fault_unsaveable(self, live: LiveExecution, exc: Exception) -> None:
        """The store refused this execution's data: fault it rather than stall it."""
        log.error("cannot save execution %s: %s", live.id, exc)
        state = live.state
        state.frames.clear()
        state.effects.clear()
        state.output = None
        state.error = errors.error(errors.RUNTIME, f"the execution could not be saved: {exc}")
        state.status = FAULTED
        state.ended_at = self.clock()
        checkpoint = build_checkpoint(
            live, [], now=self.clock(), owner=self.owner, known=self.known_secrets(live.workflow)
        )
        try:
            await self.committer.commit(checkpoint)
        except Exception:
            log.exception("cannot record the fault of execution %s either", live.id)
        self._finish(live)

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
        if self.metrics is not None:
            self.metrics.observe(live.workflow, decision)
        if self.tracing is not None:
            self.tracing.observe(live, decision)
        if self.lifecycle is None:
            return []
        return lifecycle_events(live.workflow.model, decision, previous_status=previous)

    def _after_commit(
        self,
        live: LiveExecution,
        commands: list[Any],
        announcements: list[dict[str, Any]],
        took: float = 0.0,
    ) -> None:
        if announcements and self.lifecycle is not None:
            self.lifecycle(announcements)
        for command in commands:
            self.dispatcher.dispatch(live, command)
        if any(c.kind in ("emit-event", "start-workflow", "run-process") for c in commands):
            self._outbox_wakeup.set()
        if live.state.is_final:
            self._finish(live)
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
        self.timers.arm(
            live.id,
            "continue",
            self.clock() + pause,
            lambda: self.deliver(live.id, Continue()),
        )

    def _finish(self, live: LiveExecution) -> None:
        self._forget(live)
        outcome = Outcome(live.id, live.state.status, live.state.output, live.state.error)
        for future in self._waiters.pop(live.id, []):
            if not future.done():
                future.set_result(outcome)
        for callback in self.on_finished:
            callback(live)

    def _forget(self, live: LiveExecution) -> None:
        if self.live.get(live.id) is live:
            del self.live[live.id]
        self.timers.disarm_execution(live.id)
        self.router.remove_execution(live.id)
        for task in list(live.inflight.values()):
            task.cancel()

    def _outcome_of_live(self, execution_id: str) -> Outcome:
        live = self.live.get(execution_id)
        if live is None:
            return Outcome(execution_id, "unknown")
        state = live.state
        return Outcome(execution_id, state.status, state.output, state.error)

    async def _poll_outcome(self, execution_id: str, timeout: float | None) -> Outcome:
        deadline = None if timeout is None else self.clock() + timeout
        while True:
            record = await self.committer.run_in_writer(self.store.get_execution, execution_id)
            if record is None:
                raise UnknownExecution(execution_id)
            outcome = Outcome(record.id, record.status, record.output, record.error)
            if outcome.is_final or (deadline is not None and self.clock() >= deadline):
                return outcome
            if execution_id in self.live:
                remaining = None if deadline is None else max(0.0, deadline - self.clock())
                return await self.wait_for(execution_id, remaining)
            await asyncio.sleep(self.poll_interval)

    # --- children -----------------------------------------------------------------------

    async def run_child(self, command: StartWorkflow, *, wait: bool = True) -> Any:
        app = await self._app_of(command.parent_execution_id)
        workflow = self.registry.find(command.namespace, command.name, command.version, app=app)
        if workflow is None:
            detail = f"no workflow {command.namespace}/{command.name}:{command.version} is known"
            if app is not None:
                detail += f" in app {app}"
            raise EffectError(errors.error(errors.CONFIGURATION, detail))
        key = f"{command.parent_execution_id}/{command.effect_id}"
        try:
            child_id = await self.start_execution(
                workflow, command.input, parent_id=command.parent_execution_id, dedupe_key=key
            )
        except DuplicateExecution as duplicate:
            child_id = duplicate.existing_id
        if not wait:
            return None
        outcome = await self.wait_for(child_id)
        if outcome.status == COMPLETED:
            return outcome.output
        raise EffectError(
            outcome.error or errors.error(errors.RUNTIME, f"sub-workflow {outcome.status}")
        )

    async def _app_of(self, execution_id: str) -> str | None:
        live = self.live.get(execution_id)
        if live is not None:
            return live.workflow.app
        record = await self.committer.run_in_writer(self.store.get_execution, execution_id)
        return None if record is None else record.app

    async def submit(
        self,
        workflow: LoadedWorkflow,
        input: Any,
        *,
        app: str | None = None,
        revision: str | None = None,
        dedupe_key: str | None = None,
    ) -> str:
        """Record a pending execution for whichever engine process claims it first."""
        self.limits.check_input(input)
        now = self.clock()
        execution_id = new_execution_id(now)
        record = ExecutionRecord(
            id=execution_id,
            workflow_id=workflow.id,
            status="pending",
            input=input,
            created_at=now,
            app=app or workflow.app,
            revision=revision or workflow.revision,
            dedupe_key=dedupe_key,
        )
        checkpoint = Checkpoint(
            execution_id=execution_id, status="pending", state=None, updated_at=now
        )
        await self.committer.create(record, checkpoint)
        return execution_id


__all__ = ["Outcome", "Runtime", "UnknownExecution"]
