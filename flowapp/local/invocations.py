"""The invoker: executions of apps started (by the API, triggers and ``schedule``) on a
revision chosen by the app's traffic, controlled, retried and run again; events
published to the bus."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from flowapp.dsl.problems import DefinitionError
from flowapp.engine.signals import Cancel, Resume, Signal, Suspend
from flowapp.local.app_records import require_app
from flowapp.local.hosts import RevisionHosts
from flowapp.local.retrying import keeps_completed_tasks
from flowapp.local.revisions import RevisionFailed, RevisionHost
from flowapp.local.serving import Serving
from flowapp.runtime.limits import PayloadTooLarge as InputTooLarge
from flowapp.runtime.registry import LoadedWorkflow
from flowapp.runtime.runtime import Runtime, UnknownExecution
from flowapp.server import platform as p
from flowapp.store.platform.port import AppStore
from flowapp.store.port import DuplicateExecution, ExecutionFilter, ExecutionRecord
from flowapp.store.rules import UNFINISHED_STATUSES

# The statuses in which each control signal has something to do.
CONTROLLABLE = {
    "cancelled": frozenset({"pending", "running", "waiting", "suspended"}),
    "suspended": frozenset({"pending", "running", "waiting"}),
    "resumed": frozenset({"suspended"}),
}


@dataclass(frozen=True, slots=True)
class ExecutionControl:
    """Cancel, suspend and resume executions. ``find`` reads one (``NotFound`` when it
    is not one of this platform's)."""

    runtime: Runtime
    find: Callable[[str], Awaitable[ExecutionRecord]]

    async def cancel(self, execution_id: str) -> None:
        await self._signal(execution_id, Cancel(), "cancelled")

    async def suspend(self, execution_id: str) -> None:
        await self._signal(execution_id, Suspend(), "suspended")

    async def resume(self, execution_id: str) -> None:
        await self._signal(execution_id, Resume(), "resumed")

    async def _signal(self, execution_id: str, signal: Signal, verb: str) -> None:
        """Signal the execution, unless its status says the signal has nothing to do (409):
        a signal queued for an execution that has ended would wait there forever."""
        record = await self.find(execution_id)
        if record.status not in CONTROLLABLE[verb]:
            raise p.Conflict(f"execution {execution_id} is {record.status}: it cannot be {verb}")
        try:
            await self.runtime.send(execution_id, signal)
        except UnknownExecution:
            raise p.NotFound(f"no execution {execution_id}") from None


class Invoker:
    """Starts executions of apps on a revision chosen by traffic, and controls them."""

    def __init__(
        self, runtime: Runtime, store: AppStore, serving: Serving, hosts: RevisionHosts
    ) -> None:
        self.runtime = runtime
        self.store = store
        self.serving = serving
        self.hosts = hosts
        self.control = ExecutionControl(runtime, self._execution)

    async def _serving_host(self, name: str) -> RevisionHost:
        """A revision for a new execution, by the app's traffic (read again from the
        store: another process sharing it may have deployed since)."""
        await asyncio.to_thread(self.serving.refresh, self.store, name)
        revision = self.serving.pick(name)
        if revision is None:
            await require_app(self.store, name)
            raise p.Conflict(f"app {name} has no deployed revision: deploy it first")
        return await self.hosts.host(name, revision)

    async def start_for_app(self, name: str, input: Any, key: str | None) -> str:
        host = await self._serving_host(name)
        try:
            return await self.runtime.start_execution(
                host.workflow, input, app=name, revision=host.revision, dedupe_key=key
            )
        except DuplicateExecution as duplicate:
            return duplicate.existing_id
        except InputTooLarge as exc:
            raise p.PayloadTooLarge(str(exc)) from None

    async def invoke(
        self, name: str, input: Any, *, wait: float | None = None, dedupe_key: str | None = None
    ) -> p.InvocationResult:
        execution_id = await self.start_for_app(name, input, dedupe_key)
        if wait is None:
            return p.InvocationResult(execution_id, "running")
        return await self.runtime.wait_for(execution_id, wait)

    async def cancel_unfinished(self, app: str) -> None:
        """Cancel every unfinished execution of ``app`` (a page of each status at a time)."""
        for status in UNFINISHED_STATUSES:
            cursor = None
            while True:
                where = ExecutionFilter(app=app, status=status)
                page = await asyncio.to_thread(
                    self.runtime.store.list_executions, where, limit=500, cursor=cursor
                )
                for record in page.items:
                    with contextlib.suppress(UnknownExecution):
                        await self.runtime.cancel(record.id, f"the app {app} was deleted")
                cursor = page.next_cursor
                if cursor is None:
                    break

    async def retry(self, execution_id: str) -> p.RetryStarted:
        record = await self._execution(execution_id)
        return await p.retry_from_failed_task(self.runtime, record, self._retry_target)

    async def rerun(
        self, execution_id: str, *, replace_input: bool = False, input: Any = None
    ) -> p.RerunStarted:
        record = await self._execution(execution_id)
        workflow = None
        if record.app is not None:
            await self._require_app_of(record)
            revision = self.serving.primary(record.app)
            if revision is not None:
                workflow = (await self.hosts.host(record.app, revision)).workflow
        try:
            new_id = await self.runtime.rerun(
                execution_id, workflow, replace_input=replace_input, input=input
            )
        except UnknownExecution:
            raise p.NotFound(f"no execution {execution_id}") from None
        revision = workflow.revision if workflow is not None else record.revision
        return p.RerunStarted(new_id, execution_id, revision)

    async def _execution(self, execution_id: str) -> ExecutionRecord:
        record = await asyncio.to_thread(self.runtime.store.get_execution, execution_id)
        if record is None:
            raise p.NotFound(f"no execution {execution_id}")
        return record

    async def _require_app_of(self, record: ExecutionRecord) -> None:
        """The execution's app must be the one that exists now, not a deleted one whose
        name was taken again: its code and revisions are gone."""
        app = await asyncio.to_thread(self.store.get_app, record.app or "")
        if app is None or app.created_at > record.created_at:
            raise p.Conflict(
                f"the app {record.app} of execution {record.id} was deleted: it cannot run again"
            )

    async def _retry_target(self, record: ExecutionRecord) -> LoadedWorkflow | None:
        """The serving revision's workflow when the retry may move on to it; None for
        the execution's own (see ``retrying.py``)."""
        if record.app is None:
            return None
        await self._require_app_of(record)
        serving = self.serving.primary(record.app)
        if serving is None or serving == record.revision:
            return None
        try:
            host = await self.hosts.host(record.app, serving)
        except (RevisionFailed, DefinitionError, OSError):
            return None  # its own revision, started on demand, then
        runs = await asyncio.to_thread(self.runtime.store.task_runs, record.id)
        replayed = [run.reference for run in runs if run.status in ("completed", "skipped")]
        if keeps_completed_tasks(host.workflow.document, replayed):
            return host.workflow
        return None

    async def publish_event(self, event: dict[str, Any]) -> None:
        await self.runtime.publish_event(event)
