"""Keeping executions alive across processes and failures: a mixin of ``Runtime``.

- recovery: claim executions (our own back after a restart, expired leases of dead
  processes, submitted ones nobody started), read them in batches and carry out what
  they still wait for;
- leases: renewed while held, executions whose lease was lost are forgotten here;
- the outbox relay: fire-and-forget commands (emitted events ...) carried out after commit;
- signals from other processes (cancel, suspend ...) polled from the store;
- quarantine: an execution the previous process died deciding (the decision journal says
  which) has that counted in its state before it is decided again, and is faulted
  instead once the process has died deciding it ``QUARANTINE_AFTER`` times.

Every loop backs off while the store is unavailable and logs once per outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from flowapp.dsl import errors
from flowapp.engine.commands import StartTimer, Subscribe
from flowapp.engine.decide import new_state
from flowapp.engine.signals import Abort, Continue, Start, signal_from_json
from flowapp.engine.state import PENDING, ExecutionState
from flowapp.runtime.journal import QUARANTINE_AFTER
from flowapp.runtime.live import LiveExecution
from flowapp.runtime.registry import LoadedWorkflow
from flowapp.runtime.sealing import REFERENCES
from flowapp.runtime.turns import quarantine_error
from flowapp.store.port import Checkpoint, ExecutionRecord, OutboxItem, SignalRecord
from flowapp.store.rules import FINAL_STATUSES

if TYPE_CHECKING:
    from flowapp.runtime.runtime import Runtime

log = logging.getLogger("flowapp.runtime.runtime")


class UnknownExecution(LookupError):
    pass


class Upkeep:
    async def recover(
        self: Runtime, *, include_own: bool = True, limit: int = 100_000
    ) -> list[str]:
        """Take unfinished executions (our own back, with ``include_own``; others' whose
        lease expired; pending ones nobody started) and carry out what they wait for."""
        ids = await self.committer.run_in_writer(
            lambda: self.store.claim_executions(
                self.owner,
                now=self.clock(),
                lease_seconds=self.lease_seconds,
                limit=limit,
                include_own=include_own,
            )
        )
        await self._adopt_all(ids)
        if ids:
            self._outbox_wakeup.set()
        return ids

    async def recover_own(self: Runtime) -> list[str]:
        """Take back the unfinished executions this owner still holds (a restart under the
        same name), and nothing else."""
        ids = await self.committer.run_in_writer(
            lambda: self.store.renew_leases(
                self.owner, now=self.clock(), lease_seconds=self.lease_seconds
            )
        )
        await self._adopt_all(ids)
        if ids:
            self._outbox_wakeup.set()
        return ids

    async def _adopt_all(self: Runtime, ids: list[str]) -> None:
        """Adopt what another loop is not adopting already (reading the store in between
        lets two loops find the same execution not live yet, and both would run it)."""
        mine = [i for i in ids if i not in self._adopting and i not in self.live]
        self._adopting.update(mine)
        try:
            if mine:
                loaded = await self.committer.run_in_writer(self.store.load_executions, mine)
                await self._count_crashes(loaded)
                for record, data in loaded:
                    with contextlib.suppress(UnknownExecution):
                        self._adopt_loaded(record, data)
        finally:  # those left by a failure are adopted by ``renew_leases``
            self._adopting.difference_update(mine)

    async def _adopt(self: Runtime, execution_id: str) -> None:
        loaded = await self.committer.run_in_writer(self.store.load_executions, [execution_id])
        if not loaded:
            raise UnknownExecution(execution_id)
        await self._count_crashes(loaded)
        self._adopt_loaded(*loaded[0])

    async def _count_crashes(
        self: Runtime, loaded: list[tuple[ExecutionRecord, dict[str, Any] | None]]
    ) -> None:
        """Count, durably, a death of the previous process in the state of each execution it
        died deciding, before any of them is decided again. Rewrites ``loaded`` in place."""
        counted = []
        for index, (record, data) in enumerate(loaded):
            if record.id not in self._suspects or record.status in FINAL_STATUSES:
                continue
            self._suspects.discard(record.id)
            if data is None:  # it died deciding its start: keep the count in a first state
                data = new_state(record.id).to_json()
            data["crashes"] = (data.get("crashes") or 0) + 1
            loaded[index] = (record, data)
            counted.append(
                Checkpoint(record.id, record.status, data, self.clock(), owner=self.owner)
            )
            log.warning(
                "the process stopped while deciding execution %s (%d time(s))",
                record.id,
                data["crashes"],
            )
        await asyncio.gather(*(self.committer.commit(checkpoint) for checkpoint in counted))

    def _adopt_loaded(self: Runtime, record: ExecutionRecord, data: dict[str, Any] | None) -> None:
        execution_id = record.id
        if record.status in FINAL_STATUSES or execution_id in self.live:
            return  # it ended here after it was claimed, or was adopted meanwhile
        workflow = self._workflow(record.workflow_id)
        gone: list[str] = []
        state = None
        if data is not None:
            state = ExecutionState.from_json(self.open_sealed(workflow, data, gone))
        if state is None or state.status == PENDING:  # submitted, never started: start it
            state = state or new_state(execution_id)
            state.limits = workflow.limits
            live = LiveExecution(workflow, state)
            self.live[execution_id] = live
            if not self._quarantined(live):
                self.deliver(execution_id, Start(record.input))
            return
        live = LiveExecution(workflow, state)
        self.live[execution_id] = live
        if self._quarantined(live) or self._lost_secrets(live, gone):
            return
        self._redispatch(live)
        if state.has_pending_work:  # a turn left work when the process stopped
            self.deliver(execution_id, Continue())

    def _quarantined(self: Runtime, live: LiveExecution) -> bool:
        """Fault an execution the process died deciding too many times, instead of running
        it; its effects are not carried out again."""
        state = live.state
        if state.crashes < QUARANTINE_AFTER:
            return False
        self._mirror(live)
        detail = (
            f"the process stopped {state.crashes} times while deciding this execution "
            "(killed, out of memory or crashed); it is not run again"
        )
        self.deliver(live.id, Abort(quarantine_error(detail, instance=state.current_task())))
        return True

    def _lost_secrets(self: Runtime, live: LiveExecution, gone: list[str]) -> bool:
        """Fault an execution whose saved state refers to secrets no longer supplied,
        rather than carry out its calls with masked credentials."""
        if not gone:
            return False
        self._mirror(live)
        names = ", ".join(f"`{name}`" for name in sorted(set(gone)))
        detail = f"the execution's saved state uses secrets no longer supplied: {names}"
        self.deliver(live.id, Abort(errors.error(errors.AUTHORIZATION, detail)))
        return True

    def _mirror(self: Runtime, live: LiveExecution) -> None:
        """What the store's timer and subscription tables hold for ``live``."""
        state = live.state
        live.timers = {k for k, e in state.effects.items() if e.command.kind == StartTimer.kind}
        live.subscriptions = {
            k for k, e in state.effects.items() if e.command.kind == Subscribe.kind
        }

    def _redispatch(self: Runtime, live: LiveExecution) -> None:
        self._mirror(live)
        for effect in live.state.effects.values():
            self.dispatcher.dispatch(live, effect.command)
        # Signals deferred while suspended stay in the state: the engine replays them on resume.

    async def _load(self: Runtime, execution_id: str) -> tuple[ExecutionRecord, ExecutionState]:
        record = await self.committer.run_in_writer(self.store.get_execution, execution_id)
        data = await self.committer.run_in_writer(self.store.load_state, execution_id)
        if record is None or data is None:
            raise UnknownExecution(execution_id)
        workflow = self._workflow(record.workflow_id)
        return record, ExecutionState.from_json(self.open_sealed(workflow, data, []))

    def _workflow(self: Runtime, workflow_id: str) -> LoadedWorkflow:
        workflow = self.registry.get(workflow_id)
        if workflow is None:
            raise UnknownExecution(f"workflow {workflow_id} is not in the store")
        return workflow

    async def _keep_leases(self: Runtime) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                await self.renew_leases()
            except Exception:  # the next round retries; the store may be restarting
                log.exception("lease upkeep failed")

    async def renew_leases(self: Runtime) -> None:
        """Renew the leases of the executions held here; forget those whose lease was
        lost, adopt those held but not running here.

        The renewal runs on the writer thread while the event loop goes on starting and
        finishing executions, so its answer speaks only of what was live before it
        began: an execution started meanwhile is missing from it though its lease is
        fresh (forgetting it left its caller waiting until the next round adopted it),
        and one that ended meanwhile is in it though it is no orphan. An execution in
        the middle of a commit (its creation, say) is judged at the next round."""
        before = dict(self.live)
        settled = {execution_id for execution_id, live in before.items() if not live.pumping}
        held = set(
            await self.committer.run_in_writer(
                lambda: self.store.renew_leases(
                    self.owner, now=self.clock(), lease_seconds=self.lease_seconds
                )
            )
        )
        for execution_id in sorted(settled - held):
            live = before[execution_id]
            if self.live.get(execution_id) is live and not live.pumping:
                log.warning("lease of %s expired; leaving it to its new owner", execution_id)
                self._forget(live)
        await self._adopt_orphans(held - before.keys())

    async def _adopt_orphans(self: Runtime, held: set[str]) -> None:
        """Adopt executions we hold but do not run: claimed by a recovery that failed half-way
        (the store went away between claim and adoption), or by a claim whose answer was lost.
        Nobody else may take them while we renew their leases, so nobody else would run them.
        A batch at a time, so that renewing is not held up for long."""
        orphans = sorted(held - self.live.keys() - self._adopting)[: self.pickup_batch]
        if orphans:
            log.warning("adopting %d executions claimed but never started here", len(orphans))
            await self._adopt_all(orphans)
            self._outbox_wakeup.set()

    def _deliver_stored(self: Runtime, item: SignalRecord) -> bool:
        """Deliver a signal from the store; False if it can no longer apply."""
        try:
            signal = signal_from_json(item.payload)
        except (ValueError, TypeError):
            log.error("dropping unreadable signal %s for %s", item.id, item.execution_id)
            return False
        return self.deliver(item.execution_id, signal, item.id)

    async def _pick_up_submitted(self: Runtime) -> None:
        """Claim pending executions often, in small batches, so load spreads over engines."""
        failures = 0
        while True:
            try:
                claimed = await self.recover(include_own=False, limit=self.pickup_batch)
                failures = 0
            except Exception as exc:  # the store may be restarting; log once per outage
                failures += 1
                if failures == 1:
                    log.warning("picking up executions failed; retrying with backoff: %s", exc)
                claimed = []
            if len(claimed) < self.pickup_batch:
                await asyncio.sleep(_backoff(self.poll_interval, failures))

    async def _relay_outbox(self: Runtime) -> None:
        while True:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation
            # that arrives as the event is set, and ``stop`` then waits for this loop forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await self._outbox_wakeup.wait()
            self._outbox_wakeup.clear()
            try:
                await self._relay_once()
            except Exception:
                log.exception("outbox relay failed; retrying")

    async def _relay_once(self: Runtime) -> None:
        while True:
            items = await self.committer.run_in_writer(
                lambda: self.store.pending_outbox(limit=200, owner=self.owner)
            )
            if self.metrics is not None:  # at least this many: a batch is 200 at most
                self.metrics.outbox_backlog(len(items))
            if not items:
                return
            for item in items:
                try:
                    payload = await self._opened_outbox(item)
                    await self.dispatcher.carry_out(payload, item.execution_id)
                except Exception:
                    log.exception("outbox item %s failed; it will not be retried", item.id)
            await self.committer.run_in_writer(self.store.outbox_done, [i.id for i in items])

    async def _opened_outbox(self: Runtime, item: OutboxItem) -> dict[str, Any]:
        """An outbox command with the secrets it refers to put back (its execution may
        have ended, and be known only to the store)."""
        if REFERENCES not in item.payload:
            return item.payload
        live = self.live.get(item.execution_id)
        workflow = live.workflow if live is not None else None
        if workflow is None:
            record = await self.committer.run_in_writer(self.store.get_execution, item.execution_id)
            if record is None:
                raise UnknownExecution(item.execution_id)
            workflow = self._workflow(record.workflow_id)
        return self.open_sealed(workflow, item.payload)

    async def _poll_signals(self: Runtime) -> None:
        failures = 0
        # Signals from other processes (cancel, suspend ...) are rare: no need to look for
        # them as often as for new work.
        interval = max(self.poll_interval, 0.1)
        while True:
            await asyncio.sleep(_backoff(interval, failures))
            try:
                pending = await self.committer.run_in_writer(
                    lambda: self.store.pending_signals(owner=self.owner, limit=500)
                )
                undelivered = [item for item in pending if not self._deliver_stored(item)]
                await self._discard_stale(undelivered)
                failures = 0
            except Exception as exc:  # the store may be restarting; log once per outage
                failures += 1
                if failures == 1:
                    log.warning("polling signals failed; retrying with backoff: %s", exc)

    async def _discard_stale(self: Runtime, undelivered: list[SignalRecord]) -> None:
        """Drop signals whose execution has ended; keep those of executions this process
        holds but is still adopting (they are delivered once it runs)."""
        stale = []
        for item in undelivered:
            if item.execution_id in self._adopting:
                continue
            record = await self.committer.run_in_writer(self.store.get_execution, item.execution_id)
            if record is None or record.status in FINAL_STATUSES:
                stale.append(item.id)
        if stale:
            await self.committer.run_in_writer(self.store.discard_signals, stale)


def _backoff(interval: float, failures: int) -> float:
    """The poll interval, doubled per consecutive failure up to 5 s."""
    return min(5.0, interval * 2**failures) if failures else interval
