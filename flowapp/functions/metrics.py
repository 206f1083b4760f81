"""Prometheus metrics of function calls and instances, in a registry the caller owns.

Never the process-global default registry: each supervisor (and each test) gets its own
``CollectorRegistry``, and the server exposes whichever registry it was given. Label sets
are bounded: ``app`` and ``function`` come from the FlowApp, ``code`` from a fixed
vocabulary (``2xx``..``5xx``, ``timeout``, ``unavailable``, ``malformed``; see
``errors.py``), never from free text.

Series (the ``_total`` suffix is added by prometheus-client to counters):
``flowapp_function_requests_total{app,function,code}``,
``flowapp_function_request_duration_seconds{app,function}`` (histogram),
``flowapp_function_requests_in_flight{app,function}``,
``flowapp_function_instances{app,function}``,
``flowapp_function_restarts_total{app,function}``.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import NamedTuple

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# From a loopback round trip (~0.3 ms) to the default call timeout (30 s).
DURATION_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)  # fmt: skip


class FunctionMetrics:
    """The five function series, registered in ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self._cache: dict[tuple[str, str], _Series] = {}
        # Instances per pool: two revisions of an app run side by side (canary traffic,
        # old ones finishing), each with its own pool of the function's instances.
        self._pools: dict[tuple[str, str], dict[Hashable, int]] = {}
        labels = ("app", "function")
        self.requests = Counter(
            "flowapp_function_requests",
            "Calls of a function by outcome (HTTP status class, timeout, unavailable, malformed).",
            (*labels, "code"),
            registry=registry,
        )
        self.duration = Histogram(
            "flowapp_function_request_duration_seconds",
            "Duration of calls of a function, queueing and cold start included.",
            labels,
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.in_flight = Gauge(
            "flowapp_function_requests_in_flight",
            "Calls of a function accepted and not yet answered.",
            labels,
            registry=registry,
        )
        self.instances = Gauge(
            "flowapp_function_instances",
            "Running instances (processes) of a function, starting ones included.",
            labels,
            registry=registry,
        )
        self.restarts = Counter(
            "flowapp_function_restarts",
            "Instances of a function that crashed or failed to start.",
            labels,
            registry=registry,
        )

    def call_started(self, app: str, function: str) -> None:
        self._series(app, function).in_flight.inc()

    def call_finished(self, app: str, function: str, *, code: str, seconds: float) -> None:
        series = self._series(app, function)
        series.in_flight.dec()
        series.duration.observe(seconds)
        counter = series.requests.get(code)
        if counter is None:
            counter = series.requests[code] = self.requests.labels(app, function, code)
        counter.inc()

    def _series(self, app: str, function: str) -> _Series:
        # labels() takes a lock and builds a key on every call; a call is hot enough to
        # remember the children per (app, function).
        series = self._cache.get((app, function))
        if series is None:
            series = _Series(
                self.in_flight.labels(app, function), self.duration.labels(app, function), {}
            )
            self._cache[(app, function)] = series
        return series

    def set_instances(self, app: str, function: str, count: int, *, pool: Hashable = None) -> None:
        """``pool`` runs ``count`` instances; the gauge is the sum over the function's pools."""
        pools = self._pools.setdefault((app, function), {})
        if count:
            pools[pool] = count
        else:
            pools.pop(pool, None)
        self.instances.labels(app, function).set(sum(pools.values()))

    def restarted(self, app: str, function: str) -> None:
        self.restarts.labels(app, function).inc()

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)


class _Series(NamedTuple):
    in_flight: Gauge
    duration: Histogram
    requests: dict[str, Counter]
