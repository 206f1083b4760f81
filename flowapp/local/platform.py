"""The local target: every app of a ``flowapp up`` server, on this machine.

    source (git repository or folder) -> revision folder -> load_app -> functions started
    -> traffic switched -> triggers restarted;  invoke -> revision by traffic -> runtime

Revisions are immutable folders under ``<data>/revisions/<revision id>``; each running one
has its own supervisor (``revisions.RevisionHost``). A failed deploy stops what it started
and leaves the serving revision alone. Revisions without traffic keep running until no
execution of theirs is unfinished, then stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from prometheus_client import CollectorRegistry

from flowapp.apps import FlowApp, load_app
from flowapp.apps.runs import PROCESS_KINDS
from flowapp.apps.sources import read_tree, write_tree
from flowapp.dsl.problems import DefinitionError
from flowapp.events import Broker
from flowapp.functions.errors import FunctionUnavailable
from flowapp.functions.metrics import FunctionMetrics
from flowapp.functions.port import FunctionCaller
from flowapp.local.catalog import Catalog
from flowapp.local.deploys import Deploys
from flowapp.local.invocations import Invocations
from flowapp.local.projects import Projects
from flowapp.local.revisions import (
    ENVIRONMENT_RECORD,
    RevisionFailed,
    RevisionHost,
    start_revision,
)
from flowapp.local.runpolicy import RunPolicies
from flowapp.local.schedules import EventSchedule, after_delay, schedule_again
from flowapp.local.syncer import Observed
from flowapp.local.triggers import AppTriggers, FileCronState
from flowapp.local.webhooks import WebhookRoutes
from flowapp.runtime.registry import LoadedWorkflow
from flowapp.runtime.runtime import Runtime
from flowapp.sandbox import Sandbox
from flowapp.store.platform import PlatformStore

log = logging.getLogger(__name__)


class Repositories(Protocol):
    def exists(self, app: str) -> bool: ...
    def create(self, app: str, files: dict[str, bytes], *, message: str, author: str) -> str: ...
    def commit_tree(
        self, app: str, files: dict[str, bytes], *, message: str, author: str
    ) -> str: ...
    def head(self, app: str) -> str | None: ...
    def export(self, app: str, commit: str, target_dir: Path) -> None: ...
    def delete(self, app: str) -> None: ...


class FolderSources:
    """Repositories without git: each app's latest source as a plain folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def exists(self, app: str) -> bool:
        return (self.root / app).is_dir()

    def create(self, app: str, files: dict[str, bytes], *, message: str, author: str) -> str:
        return self.commit_tree(app, files, message=message, author=author)

    def commit_tree(self, app: str, files: dict[str, bytes], *, message: str, author: str) -> str:
        folder = self.root / app
        shutil.rmtree(folder, ignore_errors=True)
        write_tree(files, folder)
        return uuid.uuid4().hex

    def head(self, app: str) -> str | None:
        return "folder" if self.exists(app) else None

    def export(self, app: str, commit: str, target_dir: Path) -> None:
        write_tree(read_tree(self.root / app), target_dir)

    def delete(self, app: str) -> None:
        shutil.rmtree(self.root / app, ignore_errors=True)


class LocalPlatform(Catalog, Deploys, Invocations, Projects, RunPolicies):
    """Implements ``flowapp.server.platform.Platform`` on this machine."""

    def __init__(
        self,
        *,
        data_dir: Path,
        runtime: Runtime,
        platform_store: PlatformStore,
        repositories: Repositories | None = None,
        metrics: CollectorRegistry | None = None,
        broker: Broker | None = None,
        environment: str | None = None,
        sandbox: Sandbox | None = None,
        allow_run: Iterable[str] = PROCESS_KINDS,
    ) -> None:
        self.data_dir = data_dir
        # How function processes are confined, and which run processes apps may start.
        self.sandbox = sandbox
        self.allow_run = frozenset(allow_run)
        # Whose config/<environment>.yaml every deploy merges into its app's spec.
        self.environment = environment
        self.runtime = runtime
        self.platform_store = platform_store
        self.repositories = repositories or FolderSources(data_dir / "sources")
        self.metrics = metrics
        self.broker = broker
        self.event_schedules: dict[str, EventSchedule] = {}
        self.function_metrics = FunctionMetrics(metrics) if metrics is not None else None
        self.hosts: dict[tuple[str, str], RevisionHost] = {}
        self.triggers: dict[str, AppTriggers] = {}
        self.webhook_routes = WebhookRoutes()
        self.cron_state = FileCronState(data_dir / "cron-state.json")
        # What the syncer reports, kept in memory so that observing needs no I/O.
        self.serving: dict[str, str] = {}
        self.rollouts: dict[str, tuple[str, str, str | None]] = {}  # revision, status, error
        self._deploying: dict[str, asyncio.Lock] = {}
        self._janitor: asyncio.Task[None] | None = None
        self._started = asyncio.Event()  # set once start() has started the revisions

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Start every revision that has traffic, and the apps' triggers."""
        self.runtime.on_finished.append(self._after_finished)
        try:
            apps = await self._store(self.platform_store.list_apps)
            # Oldest first: an app that held a webhook path before another keeps it.
            for app in sorted(apps, key=lambda record: (record.created_at, record.name)):
                for revision_id, percent in await self._store(
                    self.platform_store.get_traffic, app.name
                ):
                    if percent > 0:
                        with contextlib.suppress(
                            RevisionFailed, DefinitionError, FileNotFoundError
                        ):
                            await self._host(app.name, revision_id)
                await self._restart_triggers(app.name)
        finally:
            self._started.set()  # calls waiting in _AfterStart go on (or fail) now
        self._janitor = asyncio.create_task(self._stop_idle_revisions())

    async def stop(self) -> None:
        if self._janitor is not None:
            self._janitor.cancel()
        for triggers in self.triggers.values():
            await triggers.stop()
        for host in self.hosts.values():
            await host.stop()
        self.hosts.clear()

    async def _store(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(function, *args, **kwargs)

    def _now(self) -> float:
        return time.time()

    # --- revisions ------------------------------------------------------------------------

    def revision_dir(self, revision_id: str) -> Path:
        return self.data_dir / "revisions" / revision_id

    def _environment_of(self, revision_folder: Path) -> str | None:
        """The environment a revision was made for: a revision is immutable, so it keeps
        it even if the platform is restarted for another one. A project folder served in
        place (``flowapp dev``) has no record and follows the platform."""
        record = revision_folder / ENVIRONMENT_RECORD
        if record.is_file():
            return record.read_text(encoding="utf-8").strip() or None
        return self.environment

    async def _host(self, name: str, revision_id: str) -> RevisionHost:
        host = self.hosts.get((name, revision_id))
        if host is None:
            folder = self.revision_dir(revision_id)
            app = await asyncio.to_thread(load_app, folder, self._environment_of(folder))
            host = await start_revision(
                app,
                revision_id,
                self.runtime.registry,
                metrics=self.function_metrics,
                log_dir=self.data_dir / "logs" / revision_id,
                redact=lambda text: self.runtime.app_secrets(name).mask(text),
                sandbox=self.sandbox,
            )
            self.hosts[(name, revision_id)] = host
        return host

    def observe(self) -> dict[str, Observed]:
        """Each app as it runs here now (for the syncer: no I/O)."""
        seen: dict[str, Observed] = {}
        for name in {*self.serving, *self.rollouts}:
            revision = self.serving.get(name)
            host = self.hosts.get((name, revision)) if revision else None
            _, status, error = self.rollouts.get(name, (revision, "ready", None))
            triggers = self.triggers.get(name)
            seen[name] = Observed(
                deployed_revision=revision,
                revision_status=status,
                functions=host.supervisor.status() if host else {},
                triggers=triggers.status() if triggers else {},
                deploy_error=error,
            )
        return seen

    def functions_of(self, workflow: LoadedWorkflow) -> FunctionCaller | None:
        """Which functions an execution calls: those of the revision it runs on.

        Before ``start()`` has started the revisions, a caller that waits for it: the
        runtime recovers unfinished executions first (``flowapp up`` after a crash) and
        re-dispatches their calls at once, which must not fault for want of a process.
        """
        host = self.hosts.get((workflow.app or "", workflow.revision or ""))
        if host is not None:
            return host.supervisor
        return None if self._started.is_set() else _AfterStart(self, workflow)

    def _after_finished(self, live: Any) -> None:
        """``schedule.after``: a completed execution starts the next one later."""
        name = live.workflow.app
        revision = self.serving.get(name or "")
        host = self.hosts.get((name or "", revision or ""))
        if host is None or live.state.status != "completed":
            return
        delay = after_delay(host.app)
        if delay is not None:
            schedule_again(delay, lambda: self.start_for_app(host.app.name, None, None))

    async def _restart_triggers(self, name: str, app: FlowApp | None = None) -> None:
        """Triggers belong to the app: restarted with the serving revision's resource."""
        previous = self.triggers.pop(name, None)
        if previous is not None:
            await previous.stop()
        self.webhook_routes.release(name)
        schedule = self.event_schedules.pop(name, None)
        if schedule is not None:
            await schedule.stop()
        if app is None:
            traffic = await self._store(self.platform_store.get_traffic, name)
            serving = max(traffic, key=lambda split: split[1])[0] if traffic else None
            host = self.hosts.get((name, serving)) if serving else None
            if host is None:
                return
            app = host.app

        async def start(input: Any, key: str | None) -> str:
            return await self.start_for_app(name, input, key)

        hooks = {t.source.path: t.name for t in app.triggers if t.kind == "http"}
        refused = self.webhook_routes.claim(name, hooks)
        triggers = AppTriggers(app, start, cron_state=self.cron_state, refused=refused)
        await triggers.start()
        self.triggers[name] = triggers
        if self.broker is not None:
            schedule = EventSchedule(app, start, self.broker)
            await schedule.start()
            self.event_schedules[name] = schedule

    async def _stop_idle_revisions(self) -> None:
        while True:
            await asyncio.sleep(5.0)
            with contextlib.suppress(Exception):
                await self.stop_idle_revisions()

    async def stop_idle_revisions(self) -> None:
        busy = {(lv.workflow.app, lv.workflow.revision) for lv in self.runtime.live.values()}
        for key, host in list(self.hosts.items()):
            traffic = await self._store(self.platform_store.get_traffic, key[0])
            serving = any(rev == key[1] and pct > 0 for rev, pct in traffic)
            if not serving and key not in busy:
                del self.hosts[key]
                await host.stop()


class _AfterStart:
    """A ``FunctionCaller`` for calls made before ``LocalPlatform.start()``: waits for it,
    then calls the revision's functions, or fails as a call to a revision that is not
    running does (503, retryable)."""

    def __init__(self, platform: LocalPlatform, workflow: LoadedWorkflow) -> None:
        self.platform = platform
        self.key = (workflow.app or "", workflow.revision or "")

    async def call(
        self,
        name: str,
        data: Any,
        *,
        execution_id: str,
        task_reference: str,
        attempt: int,
        idempotency_key: str,
        app: str | None = None,
        timeout: float | None = None,
    ) -> Any:
        await self.platform._started.wait()
        host = self.platform.hosts.get(self.key)
        if host is None:
            app_name, revision = self.key
            raise FunctionUnavailable(name, f"revision {revision} of {app_name} is not running")
        return await host.supervisor.call(
            name,
            data,
            execution_id=execution_id,
            task_reference=task_reference,
            attempt=attempt,
            idempotency_key=idempotency_key,
            app=app,
            timeout=timeout,
        )
