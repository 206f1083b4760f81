"""The local target: every app of a ``flowapp up`` server, on this machine.

    source (git repository or folder) -> revision folder -> load_app -> functions started
    -> traffic switched -> triggers restarted;  invoke -> revision by traffic -> runtime

Revisions are immutable folders under ``<data>/revisions/<revision id>``; each running one
has its own supervisor (``revisions.RevisionHost``). A failed deploy stops what it started
and leaves the serving revision alone. Revisions without traffic keep running until no
execution of theirs is unfinished, then stop; an execution that calls a function of a
revision that is not running (recovered after a restart, or retried on its own revision)
starts it again on demand. Which revision serves each app is ``serving.Serving``'s to say,
rebuilt from the store at start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from flowapp.apps import FlowApp, load_app
from flowapp.apps.runs import PROCESS_KINDS
from flowapp.dsl.problems import DefinitionError
from flowapp.events import Broker
from flowapp.functions.metrics import FunctionMetrics
from flowapp.functions.port import FunctionCaller
from flowapp.functions.supervisor import Supervisor
from flowapp.local.catalog import Catalog
from flowapp.local.deploys import Deploys
from flowapp.local.invocations import Invocations
from flowapp.local.on_demand import RevisionCaller
from flowapp.local.projects import Projects
from flowapp.local.repositories import FolderSources, Repositories
from flowapp.local.revisions import (
    ENVIRONMENT_RECORD,
    RevisionFailed,
    RevisionFunctions,
    RevisionHost,
    RunFunctions,
    start_revision,
)
from flowapp.local.runpolicy import RunPolicies
from flowapp.local.schedules import AfterChains, EventSchedule, after_delay
from flowapp.local.serving import Serving
from flowapp.local.syncer import Observed
from flowapp.local.triggers import AppTriggers, FileCronState
from flowapp.local.webhooks import WebhookRoutes
from flowapp.runtime.registry import LoadedWorkflow
from flowapp.runtime.runtime import Runtime
from flowapp.sandbox import Sandbox
from flowapp.store.platform import PlatformStore
from flowapp.store.port import ExecutionFilter
from flowapp.triggers.metrics import TriggerMetrics

log = logging.getLogger(__name__)


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
        run_functions: RunFunctions | None = None,
    ) -> None:
        self.data_dir = data_dir
        # Who runs a revision's functions: the supervisor's processes unless told otherwise
        # (the test kit calls them in the test's own process).
        self.run_functions = run_functions or self._supervisor
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
        self.trigger_metrics = TriggerMetrics(metrics) if metrics is not None else None
        if self.trigger_metrics is not None:
            self.trigger_metrics.watch(self._trigger_statuses)
        self.hosts: dict[tuple[str, str], RevisionHost] = {}
        self.triggers: dict[str, AppTriggers] = {}
        self.webhook_routes = WebhookRoutes()
        self.cron_state = FileCronState(data_dir / "cron-state.json")
        # Which revision serves each app, and each app's last rollout (for the syncer).
        self.serving = Serving()
        # The engine process this is (``flowapp up --owner``): its deploys are its own.
        self.owner = str(getattr(runtime, "owner", "local"))
        self._deploying: dict[str, asyncio.Lock] = {}
        self._starting: dict[tuple[str, str], asyncio.Lock] = {}
        self.after_chains = AfterChains(
            delay_of=self._after_delay,
            start=lambda name, key: self.start_for_app(name, None, key),
            latest=self._latest_execution,
            clock=self._now,
        )
        self._janitor: asyncio.Task[None] | None = None
        self._started = asyncio.Event()  # set once start() has started the revisions

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Fail the deploys a crash cut short, then start every revision that has
        traffic, the apps' triggers, and the ``schedule.after`` chains that were due."""
        self.runtime.on_finished.append(self._after_finished)
        try:
            await asyncio.to_thread(_remove_scratch_folders, self.data_dir / "revisions")
            await self._fail_interrupted_deploys()
            await self._store(self.serving.load, self.platform_store)
            for name in await self._oldest_first(self.serving.apps()):
                await self._start_serving(name)
                await self._restart_triggers(name)
        finally:
            self._started.set()  # calls waiting in RevisionCaller go on now
        for name in sorted(self.serving.apps()):
            await self.after_chains.resume(name)
        self._janitor = asyncio.create_task(self._stop_idle_revisions())

    async def stop(self) -> None:
        if self._janitor is not None:
            self._janitor.cancel()
        self.after_chains.stop()
        for triggers in self.triggers.values():
            await triggers.stop()
        for schedule in self.event_schedules.values():
            await schedule.stop()
        for host in self.hosts.values():
            await host.stop()
        self.hosts.clear()

    async def _oldest_first(self, names: set[str]) -> list[str]:
        """Oldest app first: an app that held a webhook path before another keeps it."""
        apps = await self._store(self.platform_store.list_apps)
        ordered = sorted(apps, key=lambda record: (record.created_at, record.name))
        return [record.name for record in ordered if record.name in names]

    async def _fail_interrupted_deploys(self) -> None:
        failed = await self._store(
            self.platform_store.fail_interrupted_deploys,
            self.owner,
            now=self._now(),
            message=INTERRUPTED,
        )
        for deploy in failed:
            message = f"deploy {deploy.id} of {deploy.revision_id} {INTERRUPTED}"
            log.warning("%s: %s", deploy.app, message)
            self.serving.roll_out(deploy.app, deploy.revision_id, "failed", message)

    async def _start_serving(self, name: str) -> None:
        """Start the revisions with a share of the app's traffic; one that cannot start
        is reported on the app (its conditions), not fatal to the platform."""
        for revision_id, _ in self.serving.splits(name):
            try:
                await self._host(name, revision_id)
            except (RevisionFailed, DefinitionError, OSError) as exc:
                message = f"revision {revision_id} could not be started: {exc}"
                log.warning("%s: %s", name, message)
                self.serving.roll_out(name, revision_id, "failed", message)

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
        """The revision running here, started if it is not (one start at a time)."""
        key = (name, revision_id)
        async with self._starting.setdefault(key, asyncio.Lock()):
            host = self.hosts.get(key)
            if host is None:
                folder = self.revision_dir(revision_id)
                app = await asyncio.to_thread(load_app, folder, self._environment_of(folder))
                functions = self.run_functions(app, revision_id)
                host = await start_revision(
                    app, revision_id, self.runtime.registry, functions=functions
                )
                self.hosts[key] = host
        return host

    def _supervisor(self, app: FlowApp, revision_id: str) -> RevisionFunctions:
        """The revision's functions as processes on this machine."""
        return Supervisor(
            app.functions.values(),
            app=app.name,
            revision=revision_id,
            metrics=self.function_metrics,
            log_dir=self.data_dir / "logs" / revision_id,
            redact=lambda text: self.runtime.app_secrets(app.name).mask(text),
            sandbox=self.sandbox,
            build_cache=self.data_dir / "build-cache" / app.name,
        )

    def observe(self) -> dict[str, Observed]:
        """Each app as it runs here now (for the syncer: no I/O)."""
        seen: dict[str, Observed] = {}
        for name in self.serving.apps():
            revision = self.serving.primary(name)
            host = self.hosts.get((name, revision)) if revision else None
            rollout = self.serving.rollout(name)
            triggers = self.triggers.get(name)
            seen[name] = Observed(
                deployed_revision=revision,
                revision_status=rollout.status if rollout else "ready",
                functions=host.supervisor.status() if host else {},
                triggers=triggers.status() if triggers else {},
                deploy_error=rollout.error if rollout else None,
            )
        return seen

    def _trigger_statuses(self) -> dict[tuple[str, str], Any]:
        """Every running app's triggers and their status (read at each scrape)."""
        return {
            (app, name): status
            for app, triggers in list(self.triggers.items())
            for name, status in triggers.status().items()
        }

    def functions_of(self, workflow: LoadedWorkflow) -> FunctionCaller | None:
        """Which functions an execution calls: those of the revision it runs on.

        When that revision is not running here (it lost its traffic and stopped, or
        ``start()`` has not started the revisions yet: the runtime recovers unfinished
        executions first and re-dispatches their calls at once), a caller that waits for
        ``start()`` and then starts the revision on demand; the janitor stops it again
        once none of its executions is unfinished.
        """
        if not workflow.app or not workflow.revision:
            return None
        host = self.hosts.get((workflow.app, workflow.revision))
        if host is not None:
            return host.supervisor
        app, revision = workflow.app, workflow.revision
        return RevisionCaller(app, revision, self._started, lambda: self._host(app, revision))

    def _after_finished(self, live: Any) -> None:
        """``schedule.after``: a completed execution starts the next one later."""
        name = live.workflow.app
        if name and live.state.status == "completed":
            self.after_chains.completed(name, live.id)

    def _after_delay(self, name: str) -> float | None:
        revision = self.serving.primary(name)
        host = self.hosts.get((name, revision)) if revision else None
        return after_delay(host.app) if host is not None else None

    def _latest_execution(self, name: str) -> Any:
        page = self.runtime.store.list_executions(ExecutionFilter(app=name), limit=1)
        return page.items[0] if page.items else None

    async def _stop_triggers(self, name: str) -> None:
        """The app's triggers, its ``schedule.on`` subscription, its pending
        ``schedule.after`` start."""
        previous = self.triggers.pop(name, None)
        if previous is not None:
            await previous.stop()
        schedule = self.event_schedules.pop(name, None)
        if schedule is not None:
            await schedule.stop()
        self.after_chains.cancel(name)

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
            revision = self.serving.primary(name)
            host = self.hosts.get((name, revision)) if revision else None
            if host is None:
                return
            app = host.app

        async def start(input: Any, key: str | None) -> str:
            return await self.start_for_app(name, input, key)

        hooks = {t.source.path: t.name for t in app.triggers if t.kind == "http"}
        refused = self.webhook_routes.claim(name, hooks)
        triggers = AppTriggers(
            app, start, cron_state=self.cron_state, refused=refused, metrics=self.trigger_metrics
        )
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
            if not self.serving.is_serving(*key) and key not in busy:
                del self.hosts[key]
                await host.stop()


INTERRUPTED = "was interrupted: flowapp stopped before it finished (deploy again)"


def _remove_scratch_folders(revisions: Path) -> None:
    """Staging and checking folders a stopped deploy or upload left behind."""
    for pattern in (".staging-*", ".check-*", ".incoming-*"):
        for folder in revisions.glob(pattern):
            shutil.rmtree(folder, ignore_errors=True)
