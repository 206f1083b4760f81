"""The local target: every app of a ``flowapp up`` server, on this machine.

    source (git repository or folder) -> revision folder -> load_app -> functions started
    -> traffic switched -> triggers restarted;  invoke -> revision by traffic -> runtime

``LocalPlatform`` composes the parts and answers the server's ports by handing each
request to the part it is about:

    catalog.AppCatalog     apps created from text, listed, changed, removed
    projects.Projects      apps' project sources: checked, committed, read back
    runpolicy.RunPolicies  which kinds of ``run`` process each app may start
    deploys.Deployer       source -> revision -> started -> all traffic
    traffic.Traffic        canary splits and rollbacks
    invocations.Invoker    executions started by traffic, controlled, retried, rerun
    hosts.RevisionHosts    the revisions running here (and the janitor that stops idle ones)
    serving.Serving        which revision serves each app: the one answer, from the store
    trigger_set.TriggerSet each app's triggers, ``schedule.on`` / ``after``, webhooks

A failed deploy stops what it started and leaves the serving revision alone. Revisions
without traffic keep running until no execution of theirs is unfinished, then stop; an
execution that calls a function of a revision that is not running (recovered after a
restart, or retried on its own revision) starts it again on demand.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from flowapp.apps.runs import PROCESS_KINDS
from flowapp.dsl.problems import DefinitionError, Problem
from flowapp.events import Broker
from flowapp.functions.metrics import FunctionMetrics
from flowapp.functions.port import FunctionCaller
from flowapp.local.app_records import require_app
from flowapp.local.catalog import AppCatalog
from flowapp.local.deploys import Deployer
from flowapp.local.hosts import RevisionHosts
from flowapp.local.invocations import Invoker
from flowapp.local.projects import Projects
from flowapp.local.repositories import FolderSources, Repositories
from flowapp.local.revisions import RevisionFailed, RunFunctions
from flowapp.local.runpolicy import RunPolicies
from flowapp.local.serving import Serving
from flowapp.local.syncer import Observed
from flowapp.local.traffic import Traffic
from flowapp.local.trigger_set import TriggerSet
from flowapp.local.triggers import FileCronState
from flowapp.runtime.registry import LoadedWorkflow
from flowapp.runtime.runtime import Runtime
from flowapp.sandbox import Sandbox
from flowapp.server import platform as p
from flowapp.store.platform import PlatformStore
from flowapp.store.port import ExecutionFilter
from flowapp.triggers.metrics import TriggerMetrics

log = logging.getLogger(__name__)


class LocalPlatform:
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
        """``environment``: whose ``config/<environment>.yaml`` every deploy merges into
        its app's spec; ``sandbox``: how function processes are confined; ``allow_run``:
        the kinds of run process every app may start; ``run_functions``: who runs a
        revision's functions (by default the supervisor's processes)."""
        clock = time.time
        self.data_dir = data_dir
        self.runtime = runtime
        self.platform_store = platform_store
        self.repositories = repositories or FolderSources(data_dir / "sources")
        self.serving = Serving()
        self.hosts = RevisionHosts(
            data_dir=data_dir,
            runtime=runtime,
            serving=self.serving,
            metrics=FunctionMetrics(metrics) if metrics is not None else None,
            sandbox=sandbox,
            environment=environment,
            run_functions=run_functions,
        )
        self.invoker = Invoker(runtime, platform_store, self.serving, self.hosts)
        self.triggers = TriggerSet(
            start=self.invoker.start_for_app,
            hosts=self.hosts,
            cron_state=FileCronState(data_dir / "cron-state.json"),
            latest=self._latest_execution,
            wait_for=lambda execution_id, seconds: runtime.wait_for(execution_id, seconds),
            clock=clock,
            broker=broker,
            metrics=TriggerMetrics(metrics) if metrics is not None else None,
        )
        self.projects = Projects(
            platform_store, self.repositories, environment=environment, clock=clock
        )
        self.run_policies = RunPolicies(platform_store, allow_run=allow_run, clock=clock)
        self.catalog = AppCatalog(
            platform_store, self.projects, self.run_policies, data_dir=data_dir, clock=clock
        )
        self.deployer = Deployer(
            platform_store,
            self.projects,
            self.run_policies,
            self.hosts,
            self.serving,
            self.triggers,
            # The engine process this is (``flowapp up --owner``): its deploys are its own.
            owner=str(getattr(runtime, "owner", "local")),
            clock=clock,
        )
        self.traffic = Traffic(platform_store, self.hosts, self.serving, self.triggers)

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Fail the deploys a crash cut short, then start every revision that has
        traffic, the apps' triggers, and the ``schedule.after`` chains that were due."""
        self.runtime.on_finished.append(self.triggers.finished)
        try:
            await asyncio.to_thread(_remove_scratch_folders, self.data_dir / "revisions")
            await self.deployer.fail_interrupted()
            await asyncio.to_thread(self.serving.load, self.platform_store)
            for name in await self.catalog.oldest_first(self.serving.apps()):
                await self._start_serving(name)
                await self.triggers.restart(name)
        finally:
            self.hosts.started.set()  # calls waiting in RevisionCaller go on now
        for name in sorted(self.serving.apps()):
            await self.triggers.resume_after(name)
        self.hosts.start_janitor()

    async def stop(self) -> None:
        await self.triggers.stop()
        await self.hosts.stop()

    async def _start_serving(self, name: str) -> None:
        """Start the revisions with a share of the app's traffic; one that cannot start
        is reported on the app (its conditions), not fatal to the platform."""
        for revision_id, _ in self.serving.splits(name):
            try:
                await self.hosts.host(name, revision_id)
            except (RevisionFailed, DefinitionError, OSError) as exc:
                message = f"revision {revision_id} could not be started: {exc}"
                log.warning("%s: %s", name, message)
                self.serving.roll_out(name, revision_id, "failed", message)

    def _latest_execution(self, name: str) -> Any:
        page = self.runtime.store.list_executions(ExecutionFilter(app=name), limit=1)
        return page.items[0] if page.items else None

    # --- for the runtime, the syncer and the git service -----------------------------------

    def functions_of(self, workflow: LoadedWorkflow) -> FunctionCaller | None:
        return self.hosts.functions_of(workflow)

    async def allowed_runs(self, app: str | None) -> frozenset[str]:
        return await self.run_policies.allowed_runs(app)

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

    async def stop_idle_revisions(self) -> None:
        await self.hosts.stop_idle()

    def check_pushed_commit(self, name: str, commit: str) -> list[str]:
        return self.deployer.check_pushed_commit(name, commit)

    async def deploy_in_place(self, folder: Path) -> p.DeployView:
        return await self.deployer.deploy_in_place(folder)

    async def start_for_app(self, name: str, input: Any, key: str | None) -> str:
        return await self.invoker.start_for_app(name, input, key)

    # --- apps (``AppsPort``) --------------------------------------------------------------

    async def validate_app(self, text: str, *, filename: str = "flowapp.yaml") -> list[Problem]:
        return await self.catalog.validate_app(text, filename=filename)

    async def create_app(self, text: str, *, filename: str = "flowapp.yaml") -> p.AppView:
        return await self.catalog.create_app(text, filename=filename)

    async def update_app(self, name: str, text: str) -> p.AppView:
        return await self.catalog.update_app(name, text)

    async def delete_app(self, name: str) -> None:
        """Everything of the app goes: its unfinished executions are cancelled (their
        code goes too), its triggers, ``schedule.on`` subscription and pending
        ``schedule.after`` start stop, its revisions stop and their folders and function
        logs are removed, with its records, repository, build cache and cron state. Its
        finished executions stay in the history."""
        await require_app(self.platform_store, name)
        await self.invoker.cancel_unfinished(name)
        await self.triggers.remove(name)
        await self.hosts.stop_app(name)
        self.serving.forget(name)
        self.deployer.forget(name)
        await self.catalog.remove(name)

    async def list_apps(self) -> list[p.AppView]:
        return await self.catalog.list_apps()

    async def get_app(self, name: str) -> p.AppView:
        return await self.catalog.get_app(name)

    def logs(self, query: p.LogQuery) -> list[p.LogLine]:
        return self.hosts.logs(query)

    # --- run policy (``RunPolicyPort``) ---------------------------------------------------

    async def get_run_policy(self, name: str) -> p.RunPolicyView:
        return await self.run_policies.get_run_policy(name)

    async def set_run_policy(self, name: str, allowed: list[str]) -> p.RunPolicyView:
        return await self.run_policies.set_run_policy(name, allowed)

    # --- deploys and traffic (``DeploysPort``) --------------------------------------------

    async def deploy(self, name: str, *, progress: p.Progress | None = None) -> p.DeployView:
        return await self.deployer.deploy(name, progress=progress)

    async def upload_source(
        self, name: str, archive: bytes, *, progress: p.Progress | None = None
    ) -> p.DeployView:
        return await self.deployer.upload_source(name, archive, progress=progress)

    async def on_push(self, name: str, commit: str) -> p.DeployView | None:
        return await self.deployer.on_push(name, commit)

    async def list_revisions(self, name: str) -> list[p.RevisionView]:
        return await self.deployer.list_revisions(name)

    async def list_deploys(self, name: str) -> list[p.DeployView]:
        return await self.deployer.list_deploys(name)

    async def get_deploy(self, name: str, deploy_id: int) -> p.DeployView:
        return await self.deployer.get_deploy(name, deploy_id)

    async def set_traffic(self, name: str, splits: list[tuple[str, int]]) -> list[tuple[str, int]]:
        return await self.traffic.set_traffic(name, splits)

    async def rollback(self, name: str) -> list[tuple[str, int]]:
        return await self.traffic.rollback(name)

    # --- executions, events, webhooks (``InvocationsPort``, ``EventsPort``, ``WebhooksPort``)

    async def invoke(
        self, name: str, input: Any, *, wait: float | None = None, dedupe_key: str | None = None
    ) -> p.InvocationResult:
        return await self.invoker.invoke(name, input, wait=wait, dedupe_key=dedupe_key)

    async def cancel(self, execution_id: str) -> None:
        await self.invoker.control.cancel(execution_id)

    async def suspend(self, execution_id: str) -> None:
        await self.invoker.control.suspend(execution_id)

    async def resume(self, execution_id: str) -> None:
        await self.invoker.control.resume(execution_id)

    async def retry(self, execution_id: str) -> p.RetryStarted:
        return await self.invoker.retry(execution_id)

    async def rerun(
        self, execution_id: str, *, replace_input: bool = False, input: Any = None
    ) -> p.RerunStarted:
        return await self.invoker.rerun(execution_id, replace_input=replace_input, input=input)

    async def publish_event(self, event: dict[str, Any]) -> None:
        await self.invoker.publish_event(event)

    async def handle_webhook(self, request: p.WebhookRequest) -> p.WebhookResponse:
        return await self.triggers.handle_webhook(request)

    # --- the project's source (``SourcesPort``) -------------------------------------------

    async def get_source(self, name: str) -> p.SourceView:
        return await self.projects.get_source(name)

    async def validate_source(self, name: str, files: dict[str, bytes]) -> list[Problem]:
        return await self.projects.validate_source(name, files)

    async def commit_source(
        self, name: str, files: dict[str, bytes], *, message: str, parent: str | None
    ) -> p.SourceView:
        return await self.projects.commit_source(name, files, message=message, parent=parent)


def _remove_scratch_folders(revisions: Path) -> None:
    """Staging and checking folders a stopped deploy or upload left behind."""
    for pattern in (".staging-*", ".check-*", ".incoming-*"):
        for folder in revisions.glob(pattern):
            shutil.rmtree(folder, ignore_errors=True)
