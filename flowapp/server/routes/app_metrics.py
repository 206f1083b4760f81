"""An app's metrics over a window: what the dashboard's panels show.

``GET /api/v1/apps/{name}/metrics?window=300`` answers, for the last ``window`` seconds,
each function's calls (per second, by outcome class, error rate, latency p50/p95/p99,
instances) and the app's executions (started, ended by status, duration percentiles),
with a series of the same over time for charts. The figures come from the counters
``/metrics`` exposes, sampled by ``MetricsHistory`` (see there for what a window means
on a server that started recently).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from flowapp.server import models
from flowapp.server.deps import AppLookupDep, ServicesDep, blocking
from flowapp.server.metrics_figures import window_figures
from flowapp.server.openapi import errors
from flowapp.server.params import AppName
from flowapp.server.platform import PlatformError
from flowapp.server.views import iso

router = APIRouter(prefix="/api/v1/apps/{name}", tags=["apps"])


class MetricsUnavailable(PlatformError):
    status = 501
    title = "Not Implemented"


@router.get("/metrics", response_model=models.AppMetrics, responses=errors(404, 422, 501))
async def app_metrics(
    services: ServicesDep,
    apps: AppLookupDep,
    name: AppName,
    window: Annotated[int, Query(ge=10, le=3600, description="Seconds, up to now.")] = 300,
    series: Annotated[bool, Query(description="With the figures over time.")] = True,
) -> Any:
    """The app's functions and executions over the last `window` seconds."""
    await apps.get_app(name)  # an unknown app is a 404
    history = services.metrics_history
    if history is None:
        raise MetricsUnavailable("this server keeps no metrics")
    samples, now = await blocking(history.window, name, float(window))
    figures = window_figures(samples, now, with_series=series)
    return {
        "app": name,
        "window_seconds": window,
        "step_seconds": history.step,
        **figures,
        "from": iso(figures["from"]),
        "to": iso(figures["to"]),
        "functions": [_timed(each) for each in figures["functions"]],
        "totals": _timed(figures["totals"]),
    }


def _timed(figures: dict[str, Any]) -> dict[str, Any]:
    if "series" not in figures:
        return figures
    return {**figures, "series": [{**p, "at": iso(p["at"])} for p in figures["series"]]}
