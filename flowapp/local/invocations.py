"""Executions of apps: invoked by the API or a webhook, controlled, their logs read, and
events published. Part of ``LocalPlatform`` (a mixin, see ``platform.py``)."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from flowapp.dsl.durations import DurationError, parse_iso_duration
from flowapp.engine.signals import Cancel, Resume, Suspend
from flowapp.local.triggers import trigger_key
from flowapp.runtime.limits import PayloadTooLarge as InputTooLarge
from flowapp.runtime.runtime import UnknownExecution
from flowapp.server import platform as p
from flowapp.store.port import DuplicateExecution
from flowapp.triggers.errors import WebhookError
from flowapp.triggers.webhook import HttpRequest

if TYPE_CHECKING:
    from flowapp.local.platform import LocalPlatform
    from flowapp.local.revisions import RevisionHost


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
        traffic = [s for s in await self._store(self.platform_store.get_traffic, name) if s[1] > 0]
        if not traffic:
            await self._require_app(name)
            raise p.Conflict(f"app {name} has no deployed revision: deploy it first")
        revision = random.choices([s[0] for s in traffic], weights=[s[1] for s in traffic])[0]
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

    async def retry(self: LocalPlatform, execution_id: str) -> None:
        try:
            await self.runtime.retry(execution_id)
        except UnknownExecution:
            raise p.NotFound(f"no execution {execution_id}") from None
        except ValueError as exc:
            raise p.Conflict(str(exc)) from None

    async def rerun(self: LocalPlatform, execution_id: str) -> str:
        try:
            return await self.runtime.rerun(execution_id)
        except UnknownExecution:
            raise p.NotFound(f"no execution {execution_id}") from None

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
