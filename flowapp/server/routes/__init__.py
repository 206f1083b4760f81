"""The API's routers, one module per resource; ``ROUTERS`` is the order they are mounted.

Every router here is plain FastAPI: access is decided before a request reaches them
(``flowapp.server.auth``), errors are answered by ``flowapp.server.errors``, and the
services come from ``flowapp.server.deps``.
"""

from __future__ import annotations

from fastapi import APIRouter

from flowapp.server.routes import (
    alerts,
    app_metrics,
    apps,
    control,
    deploys,
    events,
    executions,
    health,
    hooks,
    observe,
    projects,
    runpolicy,
    runs,
    secrets,
    tokens,
)

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    apps.router,
    projects.router,
    runpolicy.router,
    deploys.router,
    executions.router,
    control.router,
    runs.router,
    observe.router,
    app_metrics.router,
    events.router,
    tokens.router,
    secrets.router,
    alerts.router,
    hooks.router,
)
