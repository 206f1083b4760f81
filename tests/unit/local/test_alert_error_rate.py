"""Error rates from a real ``CollectorRegistry`` with ``FunctionMetrics`` counters."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from flowapp.functions.metrics import FunctionMetrics
from flowapp.local.alerts.error_rate import (
    RequestCounts,
    RequestHistory,
    counts_for,
    sample_requests,
)

from .alert_factories import T0


@pytest.fixture
def metrics() -> FunctionMetrics:
    return FunctionMetrics(CollectorRegistry())


def calls(
    metrics: FunctionMetrics, function: str, code: str, times: int, app: str = "shop"
) -> None:
    for _ in range(times):
        metrics.call_started(app, function)
        metrics.call_finished(app, function, code=code, seconds=0.01)


def test_samples_sum_codes_and_count_every_non_2xx_as_failed(metrics: FunctionMetrics) -> None:
    calls(metrics, "charge", "2xx", 6)
    calls(metrics, "charge", "5xx", 2)
    calls(metrics, "charge", "timeout", 1)
    calls(metrics, "charge", "4xx", 1)
    calls(metrics, "refund", "2xx", 3)
    calls(metrics, "charge", "unavailable", 4, app="billing")

    samples = sample_requests(metrics.registry)

    assert samples == {
        ("shop", "charge"): RequestCounts(10.0, 4.0),
        ("shop", "refund"): RequestCounts(3.0, 0.0),
        ("billing", "charge"): RequestCounts(4.0, 4.0),
    }
    assert counts_for(samples, "shop", None) == RequestCounts(13.0, 4.0)
    assert counts_for(samples, "shop", "nothing") == RequestCounts(0.0, 0.0)
    assert sample_requests(None) == {}


def test_the_rate_is_the_delta_between_two_samples(metrics: FunctionMetrics) -> None:
    history = RequestHistory()
    calls(metrics, "charge", "2xx", 100)  # before the first sample: not in any window

    def delta(now: float) -> RequestCounts | None:
        counts = counts_for(sample_requests(metrics.registry), "shop", "charge")
        return history.delta(1, counts, now=now, window=60)

    assert delta(T0) is None  # one sample: no rate yet
    calls(metrics, "charge", "2xx", 3)
    calls(metrics, "charge", "5xx", 1)
    assert delta(T0 + 5) == RequestCounts(4.0, 1.0)
    calls(metrics, "charge", "5xx", 4)
    assert delta(T0 + 10) == RequestCounts(8.0, 5.0)


def test_samples_older_than_the_window_drop_out() -> None:
    history = RequestHistory()
    for t, total, errors in [(0, 0, 0), (30, 10, 5), (60, 20, 5), (90, 30, 5)]:
        last = history.delta(1, RequestCounts(total, errors), now=T0 + t, window=60)

    assert last == RequestCounts(20.0, 0.0)  # since the sample at 30 (exactly 60 s ago)


def test_a_counter_that_goes_back_starts_the_history_over() -> None:
    history = RequestHistory()
    history.delta(1, RequestCounts(50, 10), now=T0, window=60)

    assert history.delta(1, RequestCounts(2, 1), now=T0 + 5, window=60) is None
    assert history.delta(1, RequestCounts(4, 1), now=T0 + 10, window=60) == (2.0, 0.0)


def test_rules_not_retained_are_forgotten() -> None:
    history = RequestHistory()
    history.delta(1, RequestCounts(1, 0), now=T0, window=60)
    history.delta(2, RequestCounts(1, 0), now=T0, window=60)

    history.retain([2])

    assert history.delta(1, RequestCounts(2, 0), now=T0 + 5, window=60) is None
    assert history.delta(2, RequestCounts(2, 0), now=T0 + 5, window=60) == (1.0, 0.0)
