"""What the API may not do to an app on a cluster: it is the FlowApp object's.

Creating, changing, deploying, deleting an app, its source, its run policy and its
traffic belong to ``kubectl apply`` of the FlowApp; through the engine's API they answer
409 ``Managed By The Cluster`` saying where to make the change. Part of
``ClusterPlatform`` (a mixin, see ``platform.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowapp.dsl.problems import Problem
from flowapp.server import platform as p

if TYPE_CHECKING:
    from flowapp.cluster.app import ClusterApp


class ManagedByCluster(p.PlatformError):
    """The app is the FlowApp object's: change it on the cluster, not through the API."""

    status = 409
    title = "Managed By The Cluster"


class ManagedApp:
    app: ClusterApp

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
