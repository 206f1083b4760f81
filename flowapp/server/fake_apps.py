"""One app as ``FakePlatform`` keeps it: its resource, revisions, deploys and traffic.

Plain bookkeeping, no I/O: the platform decides when to build a revision or record a
deploy; this says what the app looks like afterwards and how it is shown (``view``),
with the conditions and observation a syncer would report for it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from flowapp.apps import is_plain_workflow
from flowapp.dsl.source import parse_text
from flowapp.server.fake_resources import Resource
from flowapp.server.platform import AppView, DeployView, PlatformError, RevisionView


@dataclass(slots=True)
class AppState:
    resource: Resource
    created_at: float
    updated_at: float
    revisions: list[RevisionView] = field(default_factory=list)  # oldest first
    deploys: list[DeployView] = field(default_factory=list)  # oldest first
    traffic: list[tuple[str, int]] = field(default_factory=list)
    source: bytes | None = None  # the last uploaded project archive
    files: dict[str, bytes] = field(default_factory=dict)  # the project, as committed
    commit: str | None = None  # a made-up sha for each commit of ``files``

    def commit_files(self, files: dict[str, bytes]) -> str:
        self.files = dict(files)
        content = repr(sorted(files.items())) + (self.commit or "")
        self.commit = hashlib.sha1(content.encode()).hexdigest()
        return self.commit

    allowed_runs: tuple[str, ...] = ()  # kinds of run process an admin allowed it

    @property
    def name(self) -> str:
        return self.resource.name

    def revision_for(self, now: float) -> RevisionView:
        """The latest revision if it has the resource's digest, else a new one (building)."""
        digest = self.resource.digest
        if self.revisions and self.revisions[-1].digest == digest:
            return self.revisions[-1]
        number = len(self.revisions) + 1
        revision_id = f"{self.name}-{number:05d}"
        revision = RevisionView(revision_id, self.name, number, digest, "building", "", now)
        self.revisions.append(revision)
        return revision

    def mark(self, revision: RevisionView, status: str, message: str = "") -> None:
        marked = replace(revision, status=status, message=message)
        self.revisions = [marked if r.id == revision.id else r for r in self.revisions]

    def add_deploy(
        self, deploy_id: int, revision_id: str, status: str, message: str, now: float
    ) -> DeployView:
        view = DeployView(
            deploy_id, self.name, revision_id, status, message, message + "\n", now, now
        )
        self.deploys.append(view)
        return view

    def check_traffic(self, splits: Sequence[tuple[str, int]]) -> None:
        ready = {r.id for r in self.revisions if r.status == "ready"}
        unknown = [revision for revision, _ in splits if revision not in ready]
        if unknown:
            raise PlatformError(f"not a ready revision of {self.name}: {', '.join(unknown)}")
        distinct = len({revision for revision, _ in splits}) == len(splits)
        if not distinct or sum(percent for _, percent in splits) != 100:
            raise PlatformError("traffic splits name distinct revisions and add up to 100")

    def view(self) -> AppView:
        deployed = self.traffic[0][0] if self.traffic else None
        return AppView(
            name=self.name,
            namespace=self.resource.namespace,
            resource=self.resource.resource,
            created_at=self.created_at,
            updated_at=self.updated_at,
            deployed_revision=deployed,
            traffic=list(self.traffic),
            conditions=[_ready(deployed)],
            observation=self._observation() if deployed else None,
        )

    def _observation(self) -> dict[str, Any]:
        functions = {name: {"state": "running"} for name in sorted(self.resource.functions)}
        return {"functions": functions, "triggers": {}}


def initial_files(text: str, resource: Resource) -> dict[str, bytes]:
    """The project an app created from text gets: a plain workflow is wrapped, by
    reference, as ``flowapp init --from`` does; a FlowApp is its flowapp.yaml."""
    if is_plain_workflow(parse_text(text).data):
        manifest = (
            "apiVersion: flowapp.dev/v1alpha1\nkind: FlowApp\n"
            f"metadata: {{name: {resource.name}, namespace: {resource.namespace}}}\n"
            "spec:\n  workflowRef: workflow.yaml\n"
        )
        return {"flowapp.yaml": manifest.encode(), "workflow.yaml": text.encode()}
    return {"flowapp.yaml": text.encode()}


def _ready(deployed: str | None) -> dict[str, Any]:
    if deployed is None:
        return {"type": "Ready", "status": "False", "reason": "NotDeployed", "message": ""}
    return {"type": "Ready", "status": "True", "reason": "Deployed", "message": ""}
