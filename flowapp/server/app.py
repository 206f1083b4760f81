"""``create_app``: the API server as one FastAPI application, built from what it is given.

    request -> ServerErrorMiddleware (a bug: 500 problem, logged)
            -> RequestMetricsMiddleware (with a metrics registry: counts and times it)
            -> AuthMiddleware (bearer token and role; before any body is read)
            -> BodyLimitMiddleware (413 on Content-Length or while streaming)
            -> routers under /api/v1 (``routes/``) -> Platform | Store | PlatformStore
            -> errors.handle (every exception as an RFC 7807 problem)

Construction is pure: no I/O, no globals, nothing started. Everything a request needs
is passed in and kept on ``app.state.services``. ``mounts`` adds ASGI apps under path
prefixes (git hosting); they are outside the API's token check and authenticate on their
own terms. They are mounted after the API routes, so ``/api``, ``/hooks`` and ``/healthz``
always reach the API. ``dashboard`` adds the web dashboard's page and files at ``/``
(``flowapp.server.dashboard``), public too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry
from starlette.types import ASGIApp

from flowapp.runtime.secrets import AppSecrets
from flowapp.server import apidocs, errors, openapi
from flowapp.server.auth import AuthMiddleware
from flowapp.server.dashboard import PUBLIC_PATHS as DASHBOARD_PATHS
from flowapp.server.dashboard import PUBLIC_PREFIXES as DASHBOARD_PREFIXES
from flowapp.server.dashboard import Dashboard
from flowapp.server.deps import Services
from flowapp.server.limits import BodyLimitMiddleware, LimitFor
from flowapp.server.metrics_history import MetricsHistory
from flowapp.server.platform import Platform
from flowapp.server.request_metrics import RequestMetrics, RequestMetricsMiddleware
from flowapp.server.routes import ROUTERS
from flowapp.server.settings import ServerSettings
from flowapp.server.traceparent import TraceparentMiddleware
from flowapp.store.platform import PlatformStore
from flowapp.store.port import Store

SOURCE_PATH = re.compile(r"/api/v1/apps/[^/]+/source/?")
DESCRIPTION = (
    "The flowapp API: apps, deploys, secrets, executions, logs, events, tokens and alerts. "
    "Every operation but `/healthz` needs `Authorization: Bearer <token>`; errors are "
    "RFC 7807 problems (`application/problem+json`)."
)


def create_app(
    *,
    platform: Platform,
    store: Store,
    platform_store: PlatformStore,
    metrics: CollectorRegistry | None = None,
    settings: ServerSettings | None = None,
    extra_routes: Iterable[APIRouter] = (),
    mounts: Mapping[str, ASGIApp] | None = None,
    dashboard: Dashboard | None = None,
    secrets: AppSecrets | None = None,
    metrics_history: MetricsHistory | None = None,
) -> FastAPI:
    """The API application. ``extra_routes`` are routers served behind the token check
    like the API's own; ``mounts`` maps path prefixes to ASGI apps served without it.
    ``metrics_history`` samples ``metrics`` for the metrics panels (one is made when
    only ``metrics`` is given: it then samples when asked, not in the background)."""
    settings = settings or ServerSettings()
    mounts = mounts or {}
    app = FastAPI(
        title="flowapp",
        version="1",
        description=DESCRIPTION,
        generate_unique_id_function=openapi.operation_id,
        docs_url=None,  # apidocs serves them, with their scripts (no CDN)
        redoc_url=None,
    )
    app.state.services = Services(
        platform=platform,
        store=store,
        platform_store=platform_store,
        metrics=metrics,
        settings=settings,
        secrets=secrets,
        metrics_history=metrics_history or (MetricsHistory(metrics) if metrics else None),
    )
    routers = (*ROUTERS, *extra_routes)
    for router in routers:
        app.include_router(router)
    apidocs.install(app)
    for prefix, mounted in mounts.items():
        app.mount(prefix, mounted)
    public_prefixes, public_paths = list(mounts), frozenset[str]()
    if dashboard is not None:
        app.router.routes.extend(dashboard.routes())
        public_prefixes += DASHBOARD_PREFIXES
        public_paths = DASHBOARD_PATHS
    errors.install(app)
    openapi.install(app)
    _add_middleware(
        app,
        settings,
        platform_store,
        public_prefixes=public_prefixes,
        public_paths=public_paths,
        own_limits=list(mounts),
    )
    app.add_middleware(TraceparentMiddleware)
    if metrics is not None:
        app.add_middleware(
            RequestMetricsMiddleware,
            metrics=RequestMetrics(metrics),
            routes=[route for router in routers for route in router.routes],
        )
    return app


def _add_middleware(
    app: FastAPI,
    settings: ServerSettings,
    platform_store: PlatformStore,
    *,
    public_prefixes: list[str],
    public_paths: frozenset[str],
    own_limits: list[str],
) -> None:
    # The last added runs first: the token is checked before any body is counted or read.
    app.add_middleware(BodyLimitMiddleware, limit_for=_limits(settings, own_limits))
    app.add_middleware(
        AuthMiddleware,
        platform_store=platform_store,
        public_prefixes=public_prefixes,
        public_paths=public_paths,
    )


def _limits(settings: ServerSettings, own_limits: list[str]) -> LimitFor:
    """The body limit of a path; None under a mount, which limits its own bodies (git
    hosting streams a push of up to its own limit, far above the API's)."""

    def limit_for(path: str) -> int | None:
        if any(path == prefix or path.startswith(prefix + "/") for prefix in own_limits):
            return None
        if SOURCE_PATH.fullmatch(path):
            return settings.max_source_bytes
        return settings.max_body_bytes

    return limit_for
