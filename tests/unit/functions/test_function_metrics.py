"""The instances gauge of a function whose app runs two revisions side by side."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from flowapp.functions.metrics import FunctionMetrics


def test_instances_are_summed_over_the_pools_of_a_function() -> None:
    registry = CollectorRegistry()
    metrics = FunctionMetrics(registry)
    old, canary = object(), object()

    def instances(function: str = "append") -> float | None:
        labels = {"app": "shop", "function": function}
        return registry.get_sample_value("flowapp_function_instances", labels)

    metrics.set_instances("shop", "append", 3, pool=old)
    metrics.set_instances("shop", "append", 1, pool=canary)
    metrics.set_instances("shop", "display", 2, pool=canary)
    assert (instances(), instances("display")) == (4, 2)
    metrics.set_instances("shop", "append", 2, pool=old)  # scaled in
    assert instances() == 3
    metrics.set_instances("shop", "append", 0, pool=old)  # the old revision stopped
    assert instances() == 1
    metrics.set_instances("shop", "append", 0, pool=canary)
    assert instances() == 0
