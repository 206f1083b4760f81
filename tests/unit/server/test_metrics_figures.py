"""The figures of the metrics panels from two samples of the counters: increases,
percentiles interpolated within their bucket, outcome classes."""

from __future__ import annotations

import math

import pytest

from flowapp.server.metrics_figures import calls, increase, quantile

INF = math.inf


def test_a_quantile_is_interpolated_within_its_bucket() -> None:
    buckets = [(0.1, 10.0), (0.2, 30.0), (0.4, 40.0), (INF, 40.0)]
    assert quantile(0.25, buckets) == pytest.approx(0.1)  # rank 10: the first bucket's top
    assert quantile(0.5, buckets) == pytest.approx(0.15)  # rank 20: half way in (0.1, 0.2]
    assert quantile(0.9, buckets) == pytest.approx(0.32)  # rank 36: 6/10 into (0.2, 0.4]
    assert quantile(0.5, [(0.1, 0.0), (INF, 0.0)]) is None  # nothing observed


def test_a_quantile_past_the_last_bound_is_that_bound() -> None:
    assert quantile(0.99, [(1.0, 1.0), (5.0, 2.0), (INF, 10.0)]) == 5.0


def test_a_counter_that_went_back_counts_from_zero() -> None:
    key = ("flowapp_function_requests_total", (("app", "a"),))
    assert increase({key: 5.0}, {key: 8.0}, key) == 3.0
    assert increase({key: 5.0}, {key: 2.0}, key) == 2.0  # registered again meanwhile
    assert increase({}, {key: 2.0}, key) == 2.0


def test_calls_are_counted_by_outcome_class() -> None:
    def key(code: str) -> tuple[str, tuple[tuple[str, str], ...]]:
        labels = (("app", "shop"), ("code", code), ("function", "charge"))
        return ("flowapp_function_requests_total", labels)

    before = {key("2xx"): 10.0}
    after = {key("2xx"): 16.0, key("5xx"): 1.0, key("timeout"): 1.0}
    figures = calls(before, after, 4.0, lambda _: True)
    assert figures["requests"] == 8
    assert figures["requests_per_second"] == 2.0
    assert figures["by_code"] == {"2xx": 6, "5xx": 1, "timeout": 1}
    assert figures["error_rate"] == 0.25
    assert figures["latency_seconds"] == {"p50": None, "p95": None, "p99": None}
