"""The ``Platform`` port for one app's engine on a cluster.

The API server (``flowapp.server``) is the same as ``flowapp up``'s; what differs is
behind this port. The app is the one the FlowApp operator wrote into the engine's
ConfigMap, so it is never created, changed, deployed or deleted through the API (that
is ``kubectl apply`` of the FlowApp): those requests answer 409 ``ManagedByCluster``.
Executions are started, awaited and controlled exactly as on one machine (the runtime
and the store are the same; signals reach another replica's executions through the
database); events go to the Broker; webhooks are the app's ``http`` triggers; function
logs are the function pods' (``kubectl logs``), not the engine's.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from flowapp.apps.project import DOCUMENT_LIMITS
from flowapp.cluster.app import ClusterApp
from flowapp.cluster.managed import ManagedByCluster
from flowapp.dsl.problems import DefinitionError, Problem
from flowapp.dsl.source import DocumentTooLarge, parse_text
from flowapp.dsl.validate import validate_source
from flowapp.local.invocations import ExecutionControl
from flowapp.local.retrying import keeps_completed_tasks
from flowapp.local.webhook_calls import answer_webhook
from flowapp.runtime.limits import PayloadTooLarge as InputTooLarge
from flowapp.runtime.registry import LoadedWorkflow
from flowapp.runtime.runtime import Runtime, UnknownExecution
from flowapp.server import platform as p
from flowapp.store.port import DuplicateExecution, ExecutionRecord


class ClusterPlatform:
    """Implements ``flowapp.server.platform.Platform`` for the engine of ``app``."""

    def __init__(self, app: ClusterApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime
        self.started_at = time.time()
        self.control = ExecutionControl(runtime, self._execution)

    # --- starting executions (the API, webhooks, and Knative's deliveries) -------------

    async def start_execution(self, input: Any, key: str | None) -> tuple[str, bool]:
        """A new execution of the app's workflow (id, False), or the one that already
        has ``key`` (id, True). Returns once the execution is in the database."""
        workflow = self.app.chosen()
        try:
            execution_id = await self.runtime.start_execution(
                workflow,
                input,
                app=self.app.name,
                revision=workflow.revision,
                dedupe_key=key,
            )
        except DuplicateExecution as duplicate:
            return duplicate.existing_id, True
        except InputTooLarge as exc:
            raise p.PayloadTooLarge(str(exc)) from None
        return execution_id, False

    async def start_for_trigger(self, input: Any, key: str | None) -> str:
        execution_id, _ = await self.start_execution(input, key)
        return execution_id

    # --- apps ---------------------------------------------------------------------------

    async def validate_app(self, text: str, *, filename: str = "flowapp.yaml") -> list[Problem]:
        return await asyncio.to_thread(_problems_of, text, filename)

    async def list_apps(self) -> list[p.AppView]:
        return [self._view()]

    async def get_app(self, name: str) -> p.AppView:
        self._require(name)
        return self._view()

    # --- revisions, deploys, traffic ----------------------------------------------------

    async def get_run_policy(self, name: str) -> p.RunPolicyView:
        self._require(name)
        return p.RunPolicyView(name, (), ())

    async def list_revisions(self, name: str) -> list[p.RevisionView]:
        self._require(name)
        app = self.app
        return [
            p.RevisionView(
                revision, app.name, number, app.flowapp.digest, "ready", "", self.started_at
            )
            for number, (revision, _) in enumerate(app.traffic, start=1)
        ]

    async def list_deploys(self, name: str) -> list[p.DeployView]:
        self._require(name)
        return []

    async def get_deploy(self, name: str, deploy_id: int) -> p.DeployView:
        self._require(name)
        raise p.NotFound(f"no deploy {deploy_id} of {name}: a cluster has no deploys")

    # --- executions ---------------------------------------------------------------------

    async def invoke(
        self, name: str, input: Any, *, wait: float | None = None, dedupe_key: str | None = None
    ) -> p.InvocationResult:
        self._require(name)
        execution_id, _ = await self.start_execution(input, dedupe_key)
        if wait is None:
            return p.InvocationResult(execution_id, "running")
        return await self.runtime.wait_for(execution_id, wait)

    async def cancel(self, execution_id: str) -> None:
        await self.control.cancel(execution_id)

    async def suspend(self, execution_id: str) -> None:
        await self.control.suspend(execution_id)

    async def resume(self, execution_id: str) -> None:
        await self.control.resume(execution_id)

    async def retry(self, execution_id: str) -> p.RetryStarted:
        """From the task that failed, on the workflow this engine serves now when it
        keeps every completed task in place (as ``flowapp up`` moves a retry to the
        serving revision), else on the execution's own."""
        record = await self._execution(execution_id)
        return await p.retry_from_failed_task(self.runtime, record, self._retry_target)

    async def rerun(
        self, execution_id: str, *, replace_input: bool = False, input: Any = None
    ) -> p.RerunStarted:
        """A new execution with the same input (or ``input``), of the workflow this
        engine serves."""
        await self._execution(execution_id)
        workflow = self.app.chosen()
        try:
            new_id = await self.runtime.rerun(
                execution_id, workflow, replace_input=replace_input, input=input
            )
        except UnknownExecution:
            raise p.NotFound(f"no execution {execution_id}") from None
        return p.RerunStarted(new_id, execution_id, workflow.revision)

    async def _execution(self, execution_id: str) -> ExecutionRecord:
        record = await asyncio.to_thread(self.runtime.store.get_execution, execution_id)
        if record is None or record.app != self.app.name:
            raise p.NotFound(f"no execution {execution_id}")
        return record

    async def _retry_target(self, record: ExecutionRecord) -> LoadedWorkflow | None:
        if record.revision in {revision for revision, _ in self.app.traffic}:
            return None  # its revision still serves
        runs = await asyncio.to_thread(self.runtime.store.task_runs, record.id)
        replayed = [run.reference for run in runs if run.status in ("completed", "skipped")]
        if keeps_completed_tasks(self.app.workflow.document, replayed):
            return self.app.workflow
        return None

    # --- functions, events, webhooks ----------------------------------------------------

    def logs(self, query: p.LogQuery) -> list[p.LogLine]:
        return []  # the function pods' own: kubectl logs -l flowapp.dev/function=<name>

    async def publish_event(self, event: dict[str, Any]) -> None:
        await self.runtime.publish_event(event)

    async def handle_webhook(self, request: p.WebhookRequest) -> p.WebhookResponse:
        triggers = self.app.triggers
        trigger = triggers.webhooks().get(request.path) if triggers is not None else None
        if triggers is None or trigger is None:
            raise p.NotFound(f"no http trigger listens on {request.path}")
        return await answer_webhook(
            self.app.name,
            trigger,
            request,
            started=triggers.started,
            wait_for=self.runtime.wait_for,
        )

    # --- what the FlowApp object owns: 409 ManagedByCluster ------------------------------

    def _require(self, name: str) -> None:
        if name != self.app.name:
            raise p.NotFound(f"no app {name}: this engine serves {self.app.name}")

    def _managed(self, why: str) -> ManagedByCluster:
        return ManagedByCluster(f"app {self.app.name} is managed by its FlowApp object: {why}")

    async def create_app(self, text: str, *, filename: str = "flowapp.yaml") -> p.AppView:
        raise self._managed("apps are created by applying a FlowApp object")

    async def update_app(self, name: str, text: str) -> p.AppView:
        self._require(name)
        raise self._managed("change the FlowApp object (kubectl apply)")

    async def delete_app(self, name: str) -> None:
        self._require(name)
        raise self._managed("delete the FlowApp object (kubectl delete flowapp)")

    async def set_run_policy(self, name: str, allowed: list[str]) -> p.RunPolicyView:
        self._require(name)
        raise self._managed("the engine on a cluster starts no run processes")

    async def deploy(self, name: str, *, progress: p.Progress | None = None) -> p.DeployView:
        self._require(name)
        raise self._managed("a cluster deploys the FlowApp object's images (kubectl apply)")

    async def set_traffic(self, name: str, splits: list[tuple[str, int]]) -> list[tuple[str, int]]:
        self._require(name)
        raise self._managed("traffic is the FlowApp object's spec.traffic")

    async def rollback(self, name: str) -> list[tuple[str, int]]:
        self._require(name)
        raise self._managed("traffic is the FlowApp object's spec.traffic")

    async def upload_source(
        self, name: str, archive: bytes, *, progress: p.Progress | None = None
    ) -> p.DeployView:
        raise self._managed("a cluster runs images: build them (flowapp k8s images) and apply")

    async def get_source(self, name: str) -> p.SourceView:
        self._require(name)
        raise self._managed("the app's source is where its images were built from")

    async def validate_source(self, name: str, files: dict[str, bytes]) -> list[Problem]:
        self._require(name)
        raise self._managed("the app's source is where its images were built from")

    async def commit_source(
        self, name: str, files: dict[str, bytes], *, message: str, parent: str | None
    ) -> p.SourceView:
        self._require(name)
        raise self._managed("the app's source is where its images were built from")

    async def on_push(self, name: str, commit: str) -> p.DeployView | None:
        return None  # no git hosting on a cluster

    # --- helpers ------------------------------------------------------------------------

    def _view(self) -> p.AppView:
        app = self.app
        triggers = app.triggers.status() if app.triggers is not None else {}
        observation = {
            "deployed_revision": app.revision,
            "functions": {name: {"state": "remote", "url": url} for name, url in app.urls.items()},
            "triggers": {
                name: {"state": str(status.state), "last_error": status.error}
                for name, status in triggers.items()
            },
            "observed_at": time.time(),
        }
        ready = {
            "type": "Ready",
            "status": "True",
            "reason": "EngineRunning",
            "message": f"replica {self.runtime.owner} serves revision {app.revision}",
            "last_transition_time": self.started_at,
        }
        return p.AppView(
            name=app.name,
            namespace=app.flowapp.namespace,
            resource=app.flowapp.resource,
            created_at=self.started_at,
            updated_at=self.started_at,
            deployed_revision=app.revision,
            traffic=app.traffic,
            conditions=[ready],
            observation=observation,
        )


def _problems_of(text: str, filename: str) -> list[Problem]:
    """Every problem of a FlowApp (or plain workflow) given as text, with no folders."""
    from flowapp.apps import is_plain_workflow
    from flowapp.apps.loader import load_resource_data

    try:
        doc = parse_text(text, filename, limits=DOCUMENT_LIMITS)
        if is_plain_workflow(doc.data):
            return list(validate_source(doc))
        load_resource_data(doc.data, file=filename)
    except DocumentTooLarge as error:
        raise p.too_large(error) from None
    except DefinitionError as error:
        return list(error.problems)
    return []
