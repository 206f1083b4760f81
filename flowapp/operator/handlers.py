"""The kopf side of the operator: which events lead to a reconcile, and kopf's settings.

- A FlowApp resumed, created or changed (its spec, labels or annotations): reconcile it;
  a failure is retried by kopf with exponential back-off (1 s doubling, at most 5 min).
  An invalid spec is not retried: the next change of the spec brings the next reconcile.
- Any event of a child (label ``app.kubernetes.io/managed-by=flowapp-operator``),
  including its deletion or an edit by hand: reconcile its app, coalesced; this is drift
  correction, and how the status follows the Knative objects' readiness.
- Every ``resync`` seconds: reconcile every app anyway (a missed event cannot leave one
  drifted for long).
- A FlowApp deleted: its finalizer (``flowapp.dev/finalizer``) holds it until every child
  is gone, then lets it go; owner references let the garbage collector do the same should
  the operator not be running.

kopf keeps its own bookkeeping in annotations (``flowapp.dev/...``), not in ``status``:
the CRD declares exactly the status the operator writes, and the API server would prune
anything else. One bad FlowApp never stops the others: each is handled on its own and
every error is caught, reported, and retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import kopf
from aiohttp import web

from flowapp.operator import names
from flowapp.operator.client import PLURALS, Client
from flowapp.operator.crd import GROUP, PLURAL, VERSION
from flowapp.operator.metrics import OperatorMetrics
from flowapp.operator.objects import CHILD_KINDS
from flowapp.operator.reconcile import Reconciler, RetryLater
from flowapp.operator.target import Target

log = logging.getLogger("flowapp.operator")
FINALIZER = "flowapp.dev/finalizer"
MAX_BACKOFF = 300.0


@dataclass
class OperatorConfig:
    target: Target = field(default_factory=Target)
    server: str | None = None  # an API server URL without credentials (tests); else login
    resync: float = 300.0
    metrics_port: int | None = None
    metrics_host: str = "0.0.0.0"


@dataclass
class Running:
    """What the handlers share: set up at login and startup."""

    config: OperatorConfig
    metrics: OperatorMetrics = field(default_factory=OperatorMetrics)
    reconciler: Reconciler | None = None
    info: kopf.ConnectionInfo | None = None
    metrics_runner: web.AppRunner | None = None
    metrics_url: str = ""


def backoff(retry: int) -> float:
    return float(min(MAX_BACKOFF, 2.0**retry))


async def _retrying(work: Awaitable[object], retry: int) -> None:
    """``work``; a ``RetryLater`` becomes kopf's temporary error, retried after a backoff
    that grows with ``retry`` (kopf's count of earlier attempts)."""
    try:
        await work
    except RetryLater as error:
        raise kopf.TemporaryError(str(error), delay=backoff(retry)) from None


def _post(body: dict[str, Any], reason: str, message: str, warning: bool) -> None:
    poster = kopf.warn if warning else kopf.info
    with contextlib.suppress(Exception):  # an event that cannot be posted is only a log line
        poster(kopf.Body(cast(Any, body)), reason=reason, message=message[:1024])


def build_registry(running: Running) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()
    flowapps = (GROUP, VERSION, PLURAL)

    @kopf.on.login(registry=registry)
    def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
        if running.config.server:
            running.info = kopf.ConnectionInfo(server=running.config.server, insecure=True)
        else:
            running.info = kopf.login_with_service_account(**kwargs) or kopf.login_with_kubeconfig(
                **kwargs
            )
        return running.info

    @kopf.on.startup(registry=registry)
    async def startup(settings: kopf.OperatorSettings, **_: Any) -> None:
        settings.persistence.finalizer = FINALIZER
        settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(
            prefix="flowapp.dev"
        )
        settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
            prefix="flowapp.dev", key="last-handled-configuration"
        )
        settings.posting.level = logging.INFO
        settings.watching.server_timeout = 120
        settings.networking.request_timeout = 30
        if running.config.metrics_port is not None:
            await _serve_metrics(running)

    @kopf.on.cleanup(registry=registry)
    async def cleanup(**_: Any) -> None:
        if running.reconciler is not None:
            await running.reconciler.close()
        if running.metrics_runner is not None:
            await running.metrics_runner.cleanup()

    def reconciler() -> Reconciler:
        if running.reconciler is None:
            if running.info is None:
                raise kopf.TemporaryError("not logged in to the API server yet", delay=1.0)
            client = Client(running.info)
            running.reconciler = Reconciler(
                client, running.config.target, running.metrics, post_event=_post
            )
        return running.reconciler

    @kopf.on.resume(*flowapps, registry=registry, backoff=1.0)
    @kopf.on.create(*flowapps, registry=registry, backoff=1.0)
    @kopf.on.update(*flowapps, registry=registry, backoff=1.0)
    async def reconcile_app(body: kopf.Body, retry: int, **_: Any) -> None:
        await _retrying(reconciler().reconcile(_plain(body)), retry)

    @kopf.on.delete(*flowapps, registry=registry, backoff=1.0)
    async def delete_app(body: kopf.Body, retry: int, **_: Any) -> None:
        await _retrying(reconciler().cleanup(_plain(body)), retry)

    @kopf.timer(
        *flowapps,
        registry=registry,
        interval=running.config.resync,
        initial_delay=running.config.resync,
    )
    async def resync(body: kopf.Body, **_: Any) -> None:
        reconciler().request(body["metadata"]["namespace"], body["metadata"]["name"])

    for group, version, plural in _child_resources():
        kopf.on.event(
            group, version, plural, registry=registry, labels={names.MANAGED_BY: names.OPERATOR}
        )(_on_child(reconciler))
    return registry


def _on_child(reconciler: Any) -> Any:
    async def child_changed(body: kopf.Body, type: str | None, **_: Any) -> None:
        reconciler().child_changed(dict(body), deleted=type == "DELETED")

    return child_changed


def _child_resources() -> Iterator[tuple[str, str, str]]:
    for api_version, kind in CHILD_KINDS:
        group, _, version = api_version.rpartition("/")
        yield group, version, PLURALS[(group, kind)]


def _plain(body: kopf.Body) -> dict[str, Any]:
    return {"metadata": dict(body["metadata"]), "spec": dict(body.get("spec") or {})}


async def _serve_metrics(running: Running) -> None:
    async def metrics(request: web.Request) -> web.Response:
        return web.Response(body=running.metrics.exposition(), content_type="text/plain")

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, running.config.metrics_host, running.config.metrics_port)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    running.metrics_runner = runner
    running.metrics_url = f"http://{running.config.metrics_host}:{port}/metrics"


async def run(
    running: Running,
    *,
    stop_flag: asyncio.Event | None = None,
    ready_flag: asyncio.Event | None = None,
    namespaces: list[str] | None = None,
) -> None:
    """Run the operator until ``stop_flag`` is set (or forever)."""
    await kopf.operator(
        registry=build_registry(running),
        clusterwide=not namespaces,
        namespaces=namespaces or (),
        standalone=True,
        stop_flag=stop_flag,
        ready_flag=ready_flag,
    )
