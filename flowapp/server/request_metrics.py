"""Prometheus metrics of the API's own HTTP requests: how many, how they ended, how long.

Requests are labelled by the route's path template (``/api/v1/executions/{execution_id}``),
never by the raw path, so the number of series stays bounded whatever clients ask for.
The middleware runs outermost, so requests the token check refuses are counted too; they
never reach the router, so their template is found by matching the routes here. A path
no route matches is labelled ``unmatched``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED = "unmatched"


class RequestMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "flowapp_http_requests_total",
            "API requests answered, by method, route template and status code.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "flowapp_http_request_duration_seconds",
            "Time from a request's arrival to the end of its response.",
            ["method", "route"],
            registry=registry,
        )


class RequestMetricsMiddleware:
    def __init__(
        self, app: ASGIApp, *, metrics: RequestMetrics, routes: Sequence[BaseRoute]
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before it answers

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = self._template(scope)
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.duration.labels(scope["method"], route).observe(
                time.perf_counter() - started
            )

    def _template(self, scope: Scope) -> str:
        routed = scope.get("route")
        if routed is not None:
            return str(getattr(routed, "path", UNMATCHED))
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is not Match.NONE:  # PARTIAL: the path matched, the method did not
                return str(getattr(route, "path", UNMATCHED))
        return UNMATCHED
