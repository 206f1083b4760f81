"""Executions of apps: invoked by the API or a webhook, controlled, their logs read, and
events published. Part of ``LocalPlatform`` (a mixin, see ``platform.py``)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from flowapp.dsl.durations import DurationError, parse_iso_duration
from flowapp.dsl.problems import DefinitionError
from flowapp.engine.signals import Cancel, Resume, Suspend
from flowapp.local.retrying import keeps_completed_tasks
from flowapp.local.revisions import RevisionFailed
from flowapp.local.triggers import trigger_key
from flowapp.runtime.limits import PayloadTooLarge as InputTooLarge
from flowapp.runtime.runtime import UnknownExecution
from flowapp.server import platform as p
from flowapp.store.port import DuplicateExecution, ExecutionRecord
from flowapp.triggers.errors import WebhookError
from flowapp.triggers.webhook import HttpRequest

if TYPE_CHECKING:
    from flowapp.local.platform import LocalPlatform
    from flowapp.local.revisions import RevisionHost
    from flowapp.runtime.registry import LoadedWorkflow


def parse_wait(value: str | None) -> float | None:
    """``?wait=`` as seconds: ``30``, ``2.5``, or an ISO 8601 duration such as ``PT30S``."""
    if value in (None, ""):
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return parse_iso_duration(value)
        except DurationError as exc:
            raise p.PlatformError(f"wait: {exc}") from None


# The statuses in which each control signal has something to do.
CONTROLLABLE = {
    "cancelled": frozenset({"pending", "running", "waiting", "suspended"}),
    "suspended": frozenset({"pending", "running", "waiting"}),
    "resumed": frozenset({"suspended"}),
}


class Invocations:
    async def _serving_host(self: LocalPlatform, name: str) -> RevisionHost:
        """A revision for a new execution, by the app's traffic (read again from the
        store: another process sharing it may have deployed since)."""
        await self._store(self.serving.refresh, self.platform_store, name)
        revision = self.serving.pick(name)
        if revision is None:
            await self._require_app(name)
            raise p.Conflict(f"app {name} has no deployed revision: deploy it first")
        return await self._host(name, revision)

    async def start_for_app(self: LocalPlatform, name: str, input: Any, key: str | None) -> str:
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
        self: LocalPlatform,
        name: str,
        input: Any,
        *,
        wait: float | None = None,
        dedupe_key: str | None = None,
    ) -> p.InvocationResult:
        execution_id = await self.start_for_app(name, input, dedupe_key)
        if wait is None:
            return p.InvocationResult(execution_id, "running")
        outcome = await self.runtime.wait_for(execution_id, wait)
        return p.InvocationResult(execution_id, outcome.status, outcome.output, outcome.error)

    async def _control(self: LocalPlatform, execution_id: str, signal: Any, verb: str) -> None:
        """Signal the execution, unless its status says the signal has nothing to do (409):
        a signal queued for an execution that has ended would wait there forever."""
        record = await self._store(self.runtime.store.get_execution, execution_id)
        if record is None:
            raise p.NotFound(f"no execution {execution_id}")
        if record.status not in CONTROLLABLE[verb]:
            raise p.Conflict(f"execution {execution_id} is {record.status}: it cannot be {verb}")
        try:
            await self.runtime.send(execution_id, signal)
        except UnknownExecution:
            raise p.NotFound(f"no execution {execution_id}") from None

    async def cancel(self: LocalPlatform, execution_id: str) -> None:
        await self._control(execution_id, Cancel(), "cancelled")

    async def suspend(self: LocalPlatform, execution_id: str) -> None:
        await self._control(execution_id, Suspend(), "suspended")

    async def resume(self: LocalPlatform, execution_id: str) -> None:
        await self._control(execution_id, Resume(), "resumed")

    async def retry(self: LocalPlatform, execution_id: str) -> p.RetryStarted:
        record = await self._execution(execution_id)
        if record.status != "faulted":  # before the target is worked out
            raise p.Conflict(f"execution {execution_id} is {record.status}, not faulted")
        return await p.retry_from_failed_task(
            self.runtime, record, await self._retry_target(record)
        )

    async def rerun(
        self: LocalPlatform, execution_id: str, *, replace_input: bool = False, input: Any = None
    ) -> p.RerunStarted:
        record = await self._execution(execution_id)
        workflow = None
        if record.app is not None:
            await self._require_app_of(record)
            revision = self.serving.primary(record.app)
            if revision is not None:
                workflow = (await self._host(record.app, revision)).workflow
        try:
            new_id = await self.runtime.rerun(
                execution_id, workflow, replace_input=replace_input, input=input
            )
        except UnknownExecution:
            raise p.NotFound(f"no execution {execution_id}") from None
        revision = workflow.revision if workflow is not None else record.revision
        return p.RerunStarted(new_id, execution_id, revision)

    async def _execution(self: LocalPlatform, execution_id: str) -> ExecutionRecord:
        record = await asyncio.to_thread(self.runtime.store.get_execution, execution_id)
        if record is None:
            raise p.NotFound(f"no execution {execution_id}")
        return record

    async def _require_app_of(self: LocalPlatform, record: ExecutionRecord) -> None:
        """The execution's app must be the one that exists now, not a deleted one whose
        name was taken again: its code and revisions are gone."""
        app = await self._store(self.platform_store.get_app, record.app)
        if app is None or app.created_at > record.created_at:
            raise p.Conflict(
                f"the app {record.app} of execution {record.id} was deleted: it cannot run again"
            )

    async def _retry_target(self: LocalPlatform, record: ExecutionRecord) -> LoadedWorkflow | None:
        """The serving revision's workflow when the retry may move on to it; None for
        the execution's own (see ``retrying.py``)."""
        if record.app is None:
            return None
        await self._require_app_of(record)
        serving = self.serving.primary(record.app)
        if serving is None or serving == record.revision:
            return None
        try:
            host = await self._host(record.app, serving)
        except (RevisionFailed, DefinitionError, OSError):
            return None  # its own revision, started on demand, then
        runs = await asyncio.to_thread(self.runtime.store.task_runs, record.id)
        replayed = [run.reference for run in runs if run.status in ("completed", "skipped")]
        if keeps_completed_tasks(host.workflow.document, replayed):
            return host.workflow
        return None

    def logs(
        self: LocalPlatform,
        name: str,
        *,
        function: str | None = None,
        execution_id: str | None = None,
        limit: int = 200,
    ) -> list[p.LogLine]:
        lines: list[p.LogLine] = []
        for (app, _), host in self.hosts.items():
            if app != name:
                continue
            functions = [function] if function else list(host.app.functions)
            for each in functions:
                if each not in host.app.functions:
                    continue
                for line in host.supervisor.logs(each, execution_id=execution_id, limit=limit):
                    lines.append(
                        p.LogLine(
                            line.time,
                            name,
                            line.function,
                            line.instance,
                            line.stream,
                            line.text,
                            line.execution_id,
                        )
                    )
        return sorted(lines, key=lambda line: line.time)[-limit:]

    async def publish_event(self: LocalPlatform, event: dict[str, Any]) -> None:
        await self.runtime.publish_event(event)

    async def handle_webhook(self: LocalPlatform, request: p.WebhookRequest) -> p.WebhookResponse:
        name = self.webhook_routes.owner(request.path)
        triggers = self.triggers.get(name) if name is not None else None
        trigger = triggers.webhooks().get(request.path) if triggers is not None else None
        if name is None or trigger is None:
            raise p.NotFound(f"no http trigger listens on {request.path}")
        return await self._webhook(name, trigger, request)

    async def _webhook(
        self: LocalPlatform, name: str, trigger: Any, request: p.WebhookRequest
    ) -> p.WebhookResponse:
        if request.method.upper() not in trigger.webhook.methods:
            return method_not_allowed(request, trigger.webhook.methods)
        wait = parse_wait(request.query.get("wait"))
        if wait is None and trigger.webhook.mode == "sync":
            wait = 30.0
        try:
            event = await trigger.handle(
                HttpRequest(request.method, request.path, request.headers, request.body)
            )
        except WebhookError as exc:
            return p.WebhookResponse(exc.status, exc.problem(), _PROBLEM)
        execution_id = self.triggers[name].started.pop(trigger_key(name, trigger.name, event), None)
        if execution_id is None:
            raise p.PlatformError("the webhook's execution could not be started")
        return await self._answer(execution_id, wait)

    async def _answer(
        self: LocalPlatform, execution_id: str, wait: float | None
    ) -> p.WebhookResponse:
        location = {"Location": f"/api/v1/executions/{execution_id}"}
        if wait is None:
            return p.WebhookResponse(202, {"id": execution_id, "status": "running"}, location)
        outcome = await self.runtime.wait_for(execution_id, wait)
        if outcome.status == "completed":
            return p.WebhookResponse(200, outcome.output)
        if outcome.status in ("faulted", "cancelled") and outcome.error:
            status = outcome.error.get("status")
            code = status if isinstance(status, int) and 400 <= status <= 599 else 500
            return p.WebhookResponse(code, outcome.error, _PROBLEM)
        return p.WebhookResponse(202, {"id": execution_id, "status": outcome.status}, location)


_PROBLEM = {"Content-Type": "application/problem+json"}


def method_not_allowed(request: p.WebhookRequest, methods: tuple[str, ...]) -> p.WebhookResponse:
    """405 with ``Allow``: the trigger takes other methods (RFC 9110 section 15.5.6)."""
    allowed = ", ".join(methods)
    detail = f"{request.method} is not accepted on {request.path}: use {allowed}"
    problem = WebhookError(405, "Method Not Allowed", detail).problem()
    problem["instance"] = request.path
    return p.WebhookResponse(405, problem, {**_PROBLEM, "Allow": allowed})
