"""``FakePlatform``: an in-memory ``Platform`` for API tests and demos, shipped in the package.

    platform = FakePlatform(store, platform_store, functions={"append": lambda d: d + "!"})
    app = create_app(platform=platform, store=store, platform_store=platform_store)

Apps, revisions, deploys, traffic, logs and published events live in this object;
executions are written to the execution store it is given, so the API reads them the
way it reads a real platform's (``fake_runs.py`` says how they run). Given a platform
store, apps are also recorded there (created, updated, deleted), as the local platform
does, so that what refers to them there (alert rules) works. Resources are read
with the real parser and workflow checks (``fake_resources.py``).

Knobs for tests: ``functions`` answers ``call: <function>`` (a dict, changeable
between calls); ``fail_deploys`` makes
every deploy fail with that message (the previous revision keeps serving); ``allow_run``
the kinds of run process every app may start (each app's own are set through the API,
as on the real platform); ``events``
holds what was published; ``log_lines`` what functions "printed".
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from flowapp.dsl.problems import Problem
from flowapp.server.fake_apps import AppState, initial_files
from flowapp.server.fake_resources import Resource, project_resource, read_resource
from flowapp.server.fake_runs import FakeRuns, FunctionFailed, FunctionHandler, RunSpec
from flowapp.server.fake_traffic import pick_revision, previous_revision
from flowapp.server.platform import (
    AppView,
    Conflict,
    DeployFailed,
    DeployView,
    InvalidResource,
    InvocationResult,
    LogLine,
    NotFound,
    PlatformError,
    Progress,
    RerunStarted,
    RetryStarted,
    RevisionView,
    RunPolicyView,
    SourceView,
    WebhookRequest,
    WebhookResponse,
    archive_refused,
)
from flowapp.store.memory import MemoryStore
from flowapp.store.platform import InvalidValue, PlatformStore
from flowapp.store.platform.rules import check_run_kinds
from flowapp.store.port import Store

__all__ = ["FakePlatform", "FunctionFailed"]


class FakePlatform:
    """Implements ``flowapp.server.platform.Platform`` in memory."""

    def __init__(
        self,
        store: Store | None = None,
        platform_store: PlatformStore | None = None,
        *,
        functions: dict[str, FunctionHandler] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store if store is not None else MemoryStore()
        self.platform_store = platform_store
        self.clock = clock
        self.apps: dict[str, AppState] = {}
        self.events: list[dict[str, Any]] = []
        self.log_lines: list[LogLine] = []
        self.fail_deploys: str | None = None
        self.allow_run: tuple[str, ...] = ()  # kinds of run process every app may start
        self.functions: dict[str, FunctionHandler] = dict(functions or {})
        self.runs = FakeRuns(self.store, functions=self.functions, clock=clock, log=self._log_call)
        self._deploy_ids = 0
        self._invocations = 0

    # --- apps ---------------------------------------------------------------------------

    async def validate_app(self, text: str, *, filename: str = "flowapp.yaml") -> list[Problem]:
        return read_resource(text, filename)[1]

    async def create_app(self, text: str, *, filename: str = "flowapp.yaml") -> AppView:
        resource = _valid(*read_resource(text, filename))
        if resource.name in self.apps:
            raise Conflict(f"an app named {resource.name} exists already")
        now = self.clock()
        app = self.apps[resource.name] = AppState(resource, now, now)
        app.commit_files(initial_files(text, resource))
        self._record(resource, now, created=True)
        return self._view(resource.name)

    async def update_app(self, name: str, text: str) -> AppView:
        app = self._app(name)
        resource = _valid(*read_resource(text))
        _same_name(resource, name)
        app.resource, app.updated_at = resource, self.clock()
        app.commit_files(initial_files(text, resource))
        self._record(resource, app.updated_at, created=False)
        return self._view(name)

    async def delete_app(self, name: str) -> None:
        self._app(name)
        del self.apps[name]
        if self.platform_store is not None:
            self.platform_store.delete_app(name, now=self.clock())

    async def list_apps(self) -> list[AppView]:
        return [self._view(name) for name in sorted(self.apps)]

    async def get_app(self, name: str) -> AppView:
        return self._view(name)

    async def get_run_policy(self, name: str) -> RunPolicyView:
        return RunPolicyView(name, self._app(name).allowed_runs, self.allow_run)

    async def set_run_policy(self, name: str, allowed: list[str]) -> RunPolicyView:
        app = self._app(name)
        try:
            app.allowed_runs = check_run_kinds(allowed)
        except InvalidValue as exc:
            raise PlatformError(str(exc)) from None
        return await self.get_run_policy(name)

    # --- revisions, deploys, traffic ----------------------------------------------------

    async def deploy(self, name: str, *, progress: Progress | None = None) -> DeployView:
        app = self._app(name)
        revision = app.revision_for(self.clock())
        await _say(progress, f"revision {revision.id}: building and starting functions")
        for function in sorted(app.resource.functions):
            self._log(name, function, None, f"function {function} started")
            await _say(progress, f"function {function} ready")
        if self.fail_deploys is not None:
            if revision.status != "ready":  # a failed revision; a ready one stays ready
                app.mark(revision, "failed", self.fail_deploys)
            self._add_deploy(app, revision.id, "failed", self.fail_deploys)
            raise DeployFailed(f"revision {revision.id} failed: {self.fail_deploys}")
        app.mark(revision, "ready")
        app.traffic = [(revision.id, 100)]
        await _say(progress, f"traffic switched to {revision.id}")
        return self._add_deploy(app, revision.id, "succeeded", "deployed")

    def _add_deploy(self, app: AppState, revision_id: str, status: str, message: str) -> DeployView:
        self._deploy_ids += 1
        return app.add_deploy(self._deploy_ids, revision_id, status, message, self.clock())

    async def list_revisions(self, name: str) -> list[RevisionView]:
        return list(reversed(self._app(name).revisions))

    async def list_deploys(self, name: str) -> list[DeployView]:
        return list(reversed(self._app(name).deploys))

    async def get_deploy(self, name: str, deploy_id: int) -> DeployView:
        for deploy in self._app(name).deploys:
            if deploy.id == deploy_id:
                return deploy
        raise NotFound(f"app {name} has no deploy {deploy_id}")

    async def set_traffic(self, name: str, splits: list[tuple[str, int]]) -> list[tuple[str, int]]:
        app = self._app(name)
        app.check_traffic(splits)
        app.traffic = [(revision, percent) for revision, percent in splits]
        return app.traffic

    async def rollback(self, name: str) -> list[tuple[str, int]]:
        app = self._app(name)
        app.traffic = [(previous_revision(app.revisions, app.traffic), 100)]
        return app.traffic

    # --- executions ---------------------------------------------------------------------

    async def invoke(
        self, name: str, input: Any, *, wait: float | None = None, dedupe_key: str | None = None
    ) -> InvocationResult:
        app = self._app(name)
        if not app.traffic:
            raise Conflict(f"app {name} has no deployed revision: deploy it first")
        self._invocations += 1
        revision = pick_revision(app.traffic, self._invocations)
        spec = RunSpec(name, revision, app.resource.workflow, app.resource.functions)
        return await self.runs.start(spec, input, wait=wait, dedupe_key=dedupe_key)

    async def cancel(self, execution_id: str) -> None:
        self.runs.cancel(execution_id)

    async def suspend(self, execution_id: str) -> None:
        self.runs.suspend(execution_id)

    async def resume(self, execution_id: str) -> None:
        self.runs.resume(execution_id)

    async def retry(self, execution_id: str) -> RetryStarted:
        return self.runs.retry(execution_id)

    async def rerun(
        self, execution_id: str, *, replace_input: bool = False, input: Any = None
    ) -> RerunStarted:
        return await self.runs.rerun(execution_id, replace_input=replace_input, input=input)

    # --- functions, events, webhooks ----------------------------------------------------

    def logs(
        self,
        name: str,
        *,
        function: str | None = None,
        execution_id: str | None = None,
        limit: int = 200,
    ) -> list[LogLine]:
        lines = [
            line
            for line in self.log_lines
            if line.app == name
            and (function is None or line.function == function)
            and (execution_id is None or line.execution_id == execution_id)
        ]
        return lines[-limit:] if limit > 0 else []

    async def publish_event(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    async def handle_webhook(self, request: WebhookRequest) -> WebhookResponse:
        from flowapp.server.fake_webhooks import answer_webhook

        return await answer_webhook(self, request)

    async def upload_source(
        self, name: str, archive: bytes, *, progress: Progress | None = None
    ) -> DeployView:
        from flowapp.apps.sources import BadArchive, unpack_archive

        try:
            files = unpack_archive(archive)
        except BadArchive as exc:
            raise archive_refused(str(exc), exc.member) from None
        resource = _valid(*project_resource(files))
        _same_name(resource, name)
        await _say(progress, f"received {len(files)} files")
        now = self.clock()
        created = name not in self.apps
        app = self.apps.setdefault(name, AppState(resource, now, now))
        app.resource, app.updated_at, app.source = resource, now, archive
        app.commit_files(files)
        self._record(resource, now, created=created)
        return await self.deploy(name, progress=progress)

    async def on_push(self, name: str, commit: str) -> DeployView | None:
        return await self.deploy(name)

    async def get_source(self, name: str) -> SourceView:
        app = self._app(name)
        return SourceView(dict(app.files), app.commit)

    async def validate_source(self, name: str, files: dict[str, bytes]) -> list[Problem]:
        self._app(name)
        # In a worker thread, as the local platform checks a project.
        return (await asyncio.to_thread(project_resource, files))[1]

    async def commit_source(
        self, name: str, files: dict[str, bytes], *, message: str, parent: str | None
    ) -> SourceView:
        app = self._app(name)
        resource = _valid(*await asyncio.to_thread(project_resource, files))
        _same_name(resource, name)
        if parent is not None and parent != app.commit:
            raise Conflict(f"the source of {name} changed since {parent[:12]} was read")
        app.resource, app.updated_at = resource, self.clock()
        commit = app.commit_files(files)
        self._record(resource, app.updated_at, created=False)
        return SourceView(dict(app.files), commit)

    # --- helpers ------------------------------------------------------------------------

    def _app(self, name: str) -> AppState:
        app = self.apps.get(name)
        if app is None:
            raise NotFound(f"no app named {name}")
        return app

    def _view(self, name: str) -> AppView:
        return self._app(name).view()

    def _record(self, resource: Resource, now: float, *, created: bool) -> None:
        if self.platform_store is None:
            return
        if created:
            self.platform_store.create_app(
                resource.name, namespace=resource.namespace, resource=resource.resource, now=now
            )
        else:
            self.platform_store.update_app(resource.name, resource=resource.resource, now=now)

    def _log_call(self, app: str, function: str, execution_id: str, message: str) -> None:
        self._log(app, function, execution_id, message)

    def _log(self, app: str, function: str, execution_id: str | None, message: str) -> None:
        line = LogLine(
            self.clock(), app, function, f"{function}-0", "stdout", message, execution_id
        )
        self.log_lines.append(line)


def _valid(resource: Resource | None, problems: list[Problem]) -> Resource:
    if resource is None:
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        raise InvalidResource(f"the resource has {count}", problems=problems)
    return resource


def _same_name(resource: Resource, name: str) -> None:
    if resource.name != name:
        problem = Problem("/metadata/name", f"the app is {name}, not {resource.name}")
        raise InvalidResource(
            f"the resource names app {resource.name}, not {name}", problems=[problem]
        )


async def _say(progress: Progress | None, message: str) -> None:
    if progress is None:
        return
    pending = progress(message)
    if pending is not None:
        await pending
