"""The function series: instances summed over pools, one series set per revision, and
an app's least recently used revisions dropped so the revision label stays bounded."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from flowapp.functions.metrics import FunctionMetrics
from flowapp.functions.series import RevisionSeries


def test_instances_are_summed_over_the_pools_of_a_revision() -> None:
    registry = CollectorRegistry()
    metrics = FunctionMetrics(registry)
    draining, reloaded = object(), object()

    def instances(function: str = "append", revision: str = "r1") -> float | None:
        labels = {"app": "shop", "revision": revision, "function": function}
        return registry.get_sample_value("flowapp_function_instances", labels)

    metrics.set_instances("shop", "append", 3, pool=draining, revision="r1")
    metrics.set_instances("shop", "append", 1, pool=reloaded, revision="r1")
    metrics.set_instances("shop", "display", 2, pool=reloaded, revision="r1")
    metrics.set_instances("shop", "append", 2, pool=object(), revision="r2")  # canary
    assert (instances(), instances("display"), instances(revision="r2")) == (4, 2, 2)
    metrics.set_instances("shop", "append", 2, pool=draining, revision="r1")  # scaled in
    assert instances() == 3
    metrics.set_instances("shop", "append", 0, pool=draining, revision="r1")  # drained
    assert instances() == 1
    metrics.set_instances("shop", "append", 0, pool=reloaded, revision="r1")
    assert (instances(), instances(revision="r2")) == (0, 2)


def test_the_least_recently_used_revision_of_an_app_loses_its_series() -> None:
    registry = CollectorRegistry()
    metrics = FunctionMetrics(registry)
    metrics.series = RevisionSeries(keep=2)

    def calls(revision: str, app: str = "shop") -> float | None:
        labels = {"app": app, "revision": revision, "function": "f", "code": "2xx"}
        return registry.get_sample_value("flowapp_function_requests_total", labels)

    for revision in ("r1", "r2", "r1"):  # r1 used last: r2 is the least recently used
        metrics.call_started("shop", "f", revision=revision)
        metrics.call_finished("shop", "f", code="2xx", seconds=0.01, revision=revision)
    metrics.call_started("other", "f", revision="o1")  # another app's revisions count apart
    metrics.call_finished("other", "f", code="2xx", seconds=0.01, revision="o1")
    assert (calls("r1"), calls("r2"), calls("o1", app="other")) == (2, 1, 1)

    metrics.call_started("shop", "f", revision="r3")
    metrics.call_finished("shop", "f", code="2xx", seconds=0.01, revision="r3")

    assert (calls("r1"), calls("r2"), calls("r3"), calls("o1", app="other")) == (2, None, 1, 1)
    assert metrics.series.revisions("shop") == ["r1", "r3"]
    duration = {"app": "shop", "revision": "r2", "function": "f"}
    assert (
        registry.get_sample_value("flowapp_function_request_duration_seconds_count", duration)
        is None
    )
