"""The executions this process holds, and those who wait for their outcome.

An execution is held (``held``, by id) from the moment it is created, adopted or retried
here until it ends, its lease is lost, or the process stops. Once it ends, each caller
waiting for it gets its ``Outcome`` and each ``on_finished`` hook is told. Executions
held elsewhere (or finished long ago) are waited for by reading the store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from flowapp.runtime.committer import GroupCommitter
from flowapp.runtime.live import LiveExecution
from flowapp.runtime.outcome import Outcome, UnknownExecution
from flowapp.runtime.routing import EventRouter
from flowapp.runtime.timers import Timers
from flowapp.store.port import ExecutionRecord, Store

FinishedHook = Callable[[LiveExecution], None]


class LiveExecutions:
    def __init__(
        self,
        store: Store,
        committer: GroupCommitter,
        *,
        timers: Timers,
        router: EventRouter,
        clock: Callable[[], float],
        poll_interval: float,
        on_finished: Iterable[FinishedHook] = (),
    ) -> None:
        self.held: dict[str, LiveExecution] = {}
        self.on_finished: list[FinishedHook] = list(on_finished)
        self._store = store
        self._committer = committer
        self._timers = timers
        self._router = router
        self._clock = clock
        self._poll_interval = poll_interval
        self._waiters: dict[str, list[asyncio.Future[Outcome]]] = {}

    def finish(self, live: LiveExecution) -> None:
        """``live`` ended: let it go and tell whoever waits for it."""
        self.forget(live)
        outcome = Outcome(live.id, live.state.status, live.state.output, live.state.error)
        for future in self._waiters.pop(live.id, []):
            if not future.done():
                future.set_result(outcome)
        for callback in self.on_finished:
            callback(live)

    def forget(self, live: LiveExecution) -> None:
        """Stop holding ``live`` (ended, or its lease went to another process): its timers,
        listeners and calls in flight go with it."""
        if self.held.get(live.id) is live:
            del self.held[live.id]
        self._timers.disarm_execution(live.id)
        self._router.remove_execution(live.id)
        for task in list(live.inflight.values()):
            task.cancel()

    async def wait_for(self, execution_id: str, timeout: float | None = None) -> Outcome:
        """The outcome once the execution ends, or its current status after ``timeout``."""
        if execution_id in self.held:
            future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
            self._waiters.setdefault(execution_id, []).append(future)
            try:
                return await asyncio.wait_for(asyncio.shield(future), timeout)
            except TimeoutError:
                return self._outcome_of_held(execution_id)
        return await self._poll_outcome(execution_id, timeout)

    async def record(self, execution_id: str) -> ExecutionRecord | None:
        """The stored record of an execution (read on the store's writer)."""
        return await self._committer.run_in_writer(self._store.get_execution, execution_id)

    async def app_of(self, execution_id: str) -> str | None:
        """The app an execution belongs to, held here or (finished, or elsewhere) stored."""
        live = self.held.get(execution_id)
        if live is not None:
            return live.workflow.app
        record = await self.record(execution_id)
        return None if record is None else record.app

    def _outcome_of_held(self, execution_id: str) -> Outcome:
        live = self.held.get(execution_id)
        if live is None:
            return Outcome(execution_id, "unknown")
        state = live.state
        return Outcome(execution_id, state.status, state.output, state.error)

    async def _poll_outcome(self, execution_id: str, timeout: float | None) -> Outcome:
        deadline = None if timeout is None else self._clock() + timeout
        while True:
            record = await self.record(execution_id)
            if record is None:
                raise UnknownExecution(execution_id)
            outcome = Outcome(record.id, record.status, record.output, record.error)
            if outcome.is_final or (deadline is not None and self._clock() >= deadline):
                return outcome
            if execution_id in self.held:
                remaining = None if deadline is None else max(0.0, deadline - self._clock())
                return await self.wait_for(execution_id, remaining)
            await asyncio.sleep(self._poll_interval)
