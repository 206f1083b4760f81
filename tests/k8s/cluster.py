"""A cluster for tests: the in-memory API server with the FlowApp and Knative CRDs installed,
the operator running against it in the same event loop, and ``kubectl``-like helpers.

``mark_ready`` plays Knative's controllers (and the Deployment controller): it writes the
``Ready`` (``Available``) condition and ``observedGeneration`` into each object's status
through the ``status`` subresource, as they do.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import kopf

from flowapp.apps.loader import load_app
from flowapp.operator.client import ApiError, Client
from flowapp.operator.engine import flowapp_object
from flowapp.operator.handlers import OperatorConfig, Running, run
from flowapp.operator.objects import CHILD_KINDS
from flowapp.operator.target import Target
from tests.k8s.apiserver import ApiServer, serving
from tests.k8s.schemas import crds

Obj = dict[str, Any]
T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]


def app_object(folder: Path, *, namespace: str = "default", tag: str = "1") -> Obj:
    """A project as the FlowApp object one would apply (``flowapp k8s resource``)."""
    app = load_app(folder)
    images = {name: f"reg.example/{app.name}-{name}:{tag}" for name in app.functions}
    obj = flowapp_object(app, images)
    obj["metadata"]["namespace"] = namespace
    return obj


@dataclass
class Cluster:
    server: ApiServer
    running: Running
    kubectl: Client

    async def apply(self, obj: Obj) -> Obj:
        return await self.kubectl.create(obj)

    async def flowapp(self, name: str, namespace: str = "default") -> Obj | None:
        return await self.kubectl.get("flowapp.dev/v1alpha1", "FlowApp", namespace, name)

    async def children(self, app: str, namespace: str = "default") -> list[Obj]:
        found = []
        for api_version, kind in CHILD_KINDS:
            found += [
                obj | {"apiVersion": api_version, "kind": kind}
                for obj in await self.kubectl.list(
                    api_version, kind, namespace, f"flowapp.dev/app={app}"
                )
            ]
        return found

    async def edit(
        self,
        api_version: str,
        kind: str,
        name: str,
        change: Callable[[Obj], None],
        namespace: str = "default",
    ) -> Obj:
        """Get, change and replace an object, again on a conflict (as ``kubectl edit``)."""
        for _ in range(20):
            found = await self.kubectl.get(api_version, kind, namespace, name)
            assert found is not None, f"no {kind} {name}"
            found |= {"apiVersion": api_version, "kind": kind}
            change(found)
            try:
                return await self.kubectl.replace(found)
            except ApiError as error:
                if error.status != 409:
                    raise
        raise AssertionError(f"{kind} {name} kept changing")

    async def database_secret(self, namespace: str = "default") -> None:
        url = base64.b64encode(b"postgresql://flowapp@db/flowapp").decode()
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "flowapp-database", "namespace": namespace},
            "data": {"url": url},
        }
        await self.kubectl.create(secret)

    async def mark_ready(self, obj: Obj, *, ready: bool = True, reason: str = "") -> None:
        kind = "Available" if obj["kind"] == "Deployment" else "Ready"
        condition = {"type": kind, "status": "True" if ready else "False"}
        if reason:
            condition |= {"reason": reason, "message": f"{reason} (as the controller said)"}
        status = {"observedGeneration": obj["metadata"]["generation"], "conditions": [condition]}
        meta = obj["metadata"]
        await self.kubectl.patch_status(
            obj["apiVersion"], obj["kind"], meta["namespace"], meta["name"], status
        )

    async def mark_all_ready(self, app: str, namespace: str = "default") -> None:
        for child in await self.children(app, namespace):
            if child["kind"] != "ConfigMap" and not (
                child["kind"] == "Service" and child["apiVersion"] == "v1"
            ):
                await self.mark_ready(child)


def condition(obj: Obj | None, type_: str = "Ready") -> Obj:
    for found in ((obj or {}).get("status") or {}).get("conditions") or []:
        if found["type"] == type_:
            return dict(found)
    return {}


async def eventually(
    check: Callable[[], Awaitable[T]], *, timeout: float = 30.0, what: str = ""
) -> T:
    """``check()``'s first truthy result, polling; fails the test after ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what or check}; last: {result!r}")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def running_cluster(
    *,
    target: Target | None = None,
    resync: float = 3600.0,
    knative: bool = True,
    watchdog: float | None = 100.0,
) -> AsyncIterator[Cluster]:
    """The API server with the CRDs, and the operator running against it until exit."""
    logging.getLogger("kopf").setLevel(logging.WARNING)
    installed = crds() if knative else crds()[:1]
    async with serving(list(installed)) as server:
        config = OperatorConfig(
            target=target or Target(),
            server=server.url,  # type: ignore[attr-defined]
            resync=resync,
            metrics_port=0,
            metrics_host="127.0.0.1",
        )
        running = Running(config)
        stop, ready = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(run(running, stop_flag=stop, ready_flag=ready))
        await asyncio.wait_for(ready.wait(), 30)
        kubectl = Client(kopf.ConnectionInfo(server=server.url, insecure=True))  # type: ignore[attr-defined]
        # A test stuck past this is cancelled, so that it fails instead of hanging (kopf's
        # guarded tasks would swallow a timeout raised from a signal handler).
        test = asyncio.current_task()
        guard = None
        if test is not None and watchdog is not None:
            guard = asyncio.get_running_loop().call_later(watchdog, test.cancel)
        try:
            yield Cluster(server, running, kubectl)
        finally:
            if guard is not None:
                guard.cancel()
            await kubectl.close()
            stop.set()
            await _stopped(task)


async def _stopped(task: asyncio.Task[None]) -> None:
    """Wait for the operator to stop; cancel it if it does not, never wait forever."""
    done, _ = await asyncio.wait({task}, timeout=30)
    if not done:
        task.cancel()
        await asyncio.wait({task}, timeout=5)
