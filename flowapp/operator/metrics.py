"""The operator's Prometheus metrics: reconciles by result, their latency, errors by reason,
and the objects it created, updated and deleted. One registry per operator (tests run
several), served at ``/metrics`` on the operator's metrics port."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class OperatorMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.reconciles = Counter(
            "flowapp_operator_reconciles",
            "FlowApp reconciles, by result (ok, invalid, retry, error)",
            ["result"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "flowapp_operator_reconcile_seconds",
            "Time to reconcile one FlowApp",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "flowapp_operator_errors",
            "Reconciles that left an app not realised, by reason",
            ["reason"],
            registry=self.registry,
        )
        self.objects = Counter(
            "flowapp_operator_objects",
            "Objects the operator wrote, by action (created, updated, deleted)",
            ["action"],
            registry=self.registry,
        )

    def reconciled(self, result: str, seconds: float) -> None:
        self.reconciles.labels(result).inc()
        self.latency.observe(seconds)

    def error(self, reason: str) -> None:
        self.errors.labels(reason).inc()

    def applied(self, action: str) -> None:
        self.objects.labels(action).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
