"""Prometheus metrics of function calls and instances, in a registry the caller owns.

Never the process-global default registry: each supervisor (and each test) gets its own
``CollectorRegistry``, and the server exposes whichever registry it was given. Label sets
are bounded: ``app`` and ``function`` come from the FlowApp, ``revision`` is one of the
app's few most recently used revisions (``series.py``), ``code`` from a fixed vocabulary
(``2xx``..``5xx``, ``timeout``, ``unavailable``, ``malformed``; see ``errors.py``), never
from free text.

Series (the ``_total`` suffix is added by prometheus-client to counters):
``flowapp_function_requests_total{app,revision,function,code}``,
``flowapp_function_request_duration_seconds{app,revision,function}`` (histogram),
``flowapp_function_requests_in_flight{app,revision,function}``,
``flowapp_function_instances{app,revision,function}``,
``flowapp_function_restarts_total{app,revision,function}``,
``flowapp_function_cold_starts_total{app,revision,function}``.
"""

from __future__ import annotations

from collections.abc import Hashable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from flowapp.functions.series import RevisionSeries

# From a loopback round trip (~0.3 ms) to the default call timeout (30 s).
DURATION_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)  # fmt: skip

LABELS = ("app", "revision", "function")


class FunctionMetrics:
    """The function series, registered in ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.series = RevisionSeries()
        # Instances per pool: a revision's pool is replaced on reload while the old one
        # drains, each with its own instances of the function.
        self._pools: dict[tuple[str, str, str], dict[Hashable, int]] = {}
        self.requests = Counter(
            "flowapp_function_requests",
            "Calls of a function by outcome (HTTP status class, timeout, unavailable, malformed).",
            (*LABELS, "code"),
            registry=registry,
        )
        self.duration = Histogram(
            "flowapp_function_request_duration_seconds",
            "Duration of calls of a function, queueing and cold start included.",
            LABELS,
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.in_flight = Gauge(
            "flowapp_function_requests_in_flight",
            "Calls of a function accepted and not yet answered.",
            LABELS,
            registry=registry,
        )
        self.instances = Gauge(
            "flowapp_function_instances",
            "Running instances (processes) of a function, starting ones included.",
            LABELS,
            registry=registry,
        )
        self.restarts = Counter(
            "flowapp_function_restarts",
            "Instances of a function that crashed or failed to start.",
            LABELS,
            registry=registry,
        )
        self.cold_starts = Counter(
            "flowapp_function_cold_starts",
            "Calls that found no ready instance of their function and waited for one to start.",
            LABELS,
            registry=registry,
        )

    def known(self, app: str, function: str, *, revision: str = "") -> None:
        """Show the function's counters at 0 from its start: Prometheus's ``increase``
        then counts a first restart or cold start too."""
        for counter in (self.restarts, self.cold_starts):
            self.series.child(counter, (app, revision, function))

    def call_started(self, app: str, function: str, *, revision: str = "") -> None:
        self.series.child(self.in_flight, (app, revision, function)).inc()

    def call_finished(
        self, app: str, function: str, *, code: str, seconds: float, revision: str = ""
    ) -> None:
        labels = (app, revision, function)
        self.series.child(self.in_flight, labels).dec()
        self.series.child(self.duration, labels).observe(seconds)
        self.series.child(self.requests, (*labels, code)).inc()

    def set_instances(
        self, app: str, function: str, count: int, *, pool: Hashable = None, revision: str = ""
    ) -> None:
        """``pool`` runs ``count`` instances; the gauge is the sum over the function's pools."""
        labels = (app, revision, function)
        pools = self._pools.setdefault(labels, {})
        if count:
            pools[pool] = count
        else:
            pools.pop(pool, None)
        self.series.child(self.instances, labels).set(sum(pools.values()))

    def restarted(self, app: str, function: str, *, revision: str = "") -> None:
        self.series.child(self.restarts, (app, revision, function)).inc()

    def cold_start(self, app: str, function: str, *, revision: str = "") -> None:
        self.series.child(self.cold_starts, (app, revision, function)).inc()

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)
