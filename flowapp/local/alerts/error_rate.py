"""Function error rates from the Prometheus counters, as deltas over a rule's window.

    CollectorRegistry --sample_requests--> {(app, function): RequestCounts}   (each round)
        --RequestHistory.delta(rule)--> calls and errors in the rule's window

``flowapp_function_requests_total{app,function,code}`` only grows, so what happened in
a window is the difference between two samples: the one taken now and the newest one
taken at least ``window`` seconds ago (or, until the history is that long, the oldest
one: the window is then shorter than asked). The history lives in this process only:
a rate exists once a rule has two samples, and starts over when the server restarts or
when a counter goes backwards (its function's metrics were registered again).

A call "failed" when its ``code`` is not ``2xx``: a 4xx or 5xx reply, a timeout, an
unavailable function or a malformed reply. A rule without ``function`` counts every
function of its app.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from prometheus_client import CollectorRegistry

REQUESTS = "flowapp_function_requests"  # the counter family; its samples end in _total
SAMPLE = REQUESTS + "_total"


class RequestCounts(NamedTuple):
    calls: float
    errors: float

    def plus(self, other: RequestCounts) -> RequestCounts:
        return RequestCounts(self.calls + other.calls, self.errors + other.errors)

    def minus(self, other: RequestCounts) -> RequestCounts:
        return RequestCounts(self.calls - other.calls, self.errors - other.errors)


Samples = Mapping[tuple[str, str], RequestCounts]
NONE = RequestCounts(0.0, 0.0)


def sample_requests(registry: CollectorRegistry | None) -> dict[tuple[str, str], RequestCounts]:
    """Calls and failed calls per (app, function) so far, summed over codes."""
    totals: dict[tuple[str, str], RequestCounts] = {}
    if registry is None:
        return totals
    for family in registry.collect():
        if family.name != REQUESTS:
            continue
        for sample in family.samples:
            if sample.name != SAMPLE:
                continue  # the _created series
            key = (sample.labels.get("app", ""), sample.labels.get("function", ""))
            failed = sample.value if sample.labels.get("code") != "2xx" else 0.0
            totals[key] = totals.get(key, NONE).plus(RequestCounts(sample.value, failed))
    return totals


def counts_for(samples: Samples, app: str, function: str | None) -> RequestCounts:
    """One function's counts, or the sum over the app's functions when None."""
    if function is not None:
        return samples.get((app, function), NONE)
    total = NONE
    for (owner, _), counts in samples.items():
        if owner == app:
            total = total.plus(counts)
    return total


class RequestHistory:
    """Samples per rule, trimmed to what its window needs. Not thread-safe: one round
    at a time uses it (the evaluator's)."""

    def __init__(self) -> None:
        self._series: dict[int, deque[tuple[float, RequestCounts]]] = {}

    def delta(
        self, rule_id: int, counts: RequestCounts, *, now: float, window: float
    ) -> RequestCounts | None:
        """Record ``counts`` at ``now``; what happened over the window, or None while
        there is only one sample."""
        series = self._series.setdefault(rule_id, deque())
        if series and _went_back(series[-1][1], counts):
            series.clear()
        series.append((now, counts))
        # Keep one sample at or before the window's start (the base), drop older ones.
        while len(series) > 2 and series[1][0] <= now - window:
            series.popleft()
        if len(series) < 2:
            return None
        return counts.minus(series[0][1])

    def retain(self, rule_ids: Iterable[int]) -> None:
        """Forget rules that were deleted or disabled (their history would be stale)."""
        keep = set(rule_ids)
        for rule_id in [r for r in self._series if r not in keep]:
            del self._series[rule_id]


def _went_back(before: RequestCounts, after: RequestCounts) -> bool:
    return after.calls < before.calls or after.errors < before.errors
