"""What happened in a window, from two samples of the counters: the figures of the
metrics panels (``GET /api/v1/apps/{name}/metrics``). Pure functions of ``Values``.

- calls of a function: how many, per second, by outcome class (``2xx``, ``4xx``,
  ``5xx``, ``timeout``, ``unavailable``, ``malformed``: the ``code`` label), the error
  rate (not ``2xx``) and the latency percentiles of its duration histogram;
- executions of the app: started, ended by status, duration percentiles;
- a series of the same figures between consecutive samples, for the panels' charts.

A counter lower than before was registered again (its process restarted): the later
value is then what happened since.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from flowapp.server.metrics_history import Key, Sample, Values

REQUESTS = "flowapp_function_requests_total"
DURATION = "flowapp_function_request_duration_seconds_bucket"
INSTANCES = "flowapp_function_instances"
IN_FLIGHT = "flowapp_function_requests_in_flight"
STARTED = "flowapp_executions_started_total"
FINISHED = "flowapp_executions_finished_total"
EXECUTION_DURATION = "flowapp_execution_duration_seconds_bucket"
QUANTILES = {"p50": 0.5, "p95": 0.95, "p99": 0.99}
ENDED = ("completed", "faulted", "cancelled")
MIN_STEP_SECONDS = 1.0

Pick = Callable[[Key], bool]


def increase(before: Values, after: Values, key: Key) -> float:
    now, then = after.get(key, 0.0), before.get(key, 0.0)
    return now - then if now >= then else now


def quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float | None:
    """The ``q`` quantile of a histogram given as (upper bound, cumulative count) pairs
    in increasing order, the last one ``+Inf``: linear within the bucket holding it, as
    Prometheus's ``histogram_quantile``; None without observations."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    lower, below = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return lower  # past the highest finite bound: that bound is all one knows
            if count == below:
                return bound
            return lower + (bound - lower) * (rank - below) / (count - below)
        lower, below = bound, count
    return lower


def _label(key: Key, name: str) -> str:
    return next((value for label, value in key[1] if label == name), "")


def _keys(values: Iterable[Values], name: str, pick: Pick) -> set[Key]:
    return {key for each in values for key in each if key[0] == name and pick(key)}


def _buckets(before: Values, after: Values, name: str, pick: Pick) -> list[tuple[float, float]]:
    """The increase of each bucket, summed over the series ``pick`` keeps."""
    sums: dict[float, float] = {}
    for key in _keys((before, after), name, pick):
        bound = float(_label(key, "le"))
        sums[bound] = sums.get(bound, 0.0) + increase(before, after, key)
    return sorted(sums.items())


def _percentiles(buckets: Sequence[tuple[float, float]]) -> dict[str, float | None]:
    return {name: _rounded(quantile(q, buckets)) for name, q in QUANTILES.items()}


def calls(before: Values, after: Values, seconds: float, pick: Pick) -> dict[str, Any]:
    """Calls of the functions ``pick`` keeps, between two samples ``seconds`` apart."""
    by_code: dict[str, float] = {}
    for key in _keys((before, after), REQUESTS, pick):
        code = _label(key, "code")
        by_code[code] = by_code.get(code, 0.0) + increase(before, after, key)
    total = sum(by_code.values())
    errors = total - by_code.get("2xx", 0.0)
    return {
        "requests": round(total),
        "requests_per_second": _rate(total, seconds),
        "by_code": {code: round(count) for code, count in sorted(by_code.items()) if count},
        "error_rate": _rounded(errors / total) if total else 0.0,
        "latency_seconds": _percentiles(_buckets(before, after, DURATION, pick)),
    }


def executions(before: Values, after: Values, seconds: float) -> dict[str, Any]:
    """The app's executions between two samples: started, ended by status, durations."""
    every: Pick = lambda _: True  # noqa: E731
    started = sum(increase(before, after, k) for k in _keys((before, after), STARTED, every))
    by_status = dict.fromkeys(ENDED, 0.0)
    for key in _keys((before, after), FINISHED, every):
        status = _label(key, "status")
        by_status[status] = by_status.get(status, 0.0) + increase(before, after, key)
    return {
        "started": round(started),
        "started_per_second": _rate(started, seconds),
        "by_status": {status: round(count) for status, count in by_status.items()},
        "duration_seconds": _percentiles(_buckets(before, after, EXECUTION_DURATION, every)),
    }


def gauge(values: Values, name: str, pick: Pick) -> int:
    return round(sum(v for k, v in values.items() if k[0] == name and pick(k)))


def functions_of(values: Iterable[Values]) -> list[str]:
    names = {_label(key, "function") for each in values for key in each if key[0] in _PER_FUNCTION}
    return sorted(name for name in names if name)


_PER_FUNCTION = frozenset({REQUESTS, DURATION, INSTANCES, IN_FLIGHT})


def of_function(name: str) -> Pick:
    return lambda key: _label(key, "function") == name


def series(
    samples: Sequence[Sample], pick: Pick, *, with_executions: bool = False
) -> list[dict[str, Any]]:
    """The figures between each two consecutive samples, at the later one's time."""
    points = []
    for before, after in itertools.pairwise(samples):
        seconds = after.at - before.at
        figures = calls(before.values, after.values, seconds, pick)
        point: dict[str, Any] = {
            "at": after.at,
            "requests_per_second": figures["requests_per_second"],
            "error_rate": figures["error_rate"],
            "latency_p95": figures["latency_seconds"]["p95"],
        }
        if with_executions:
            point["executions"] = executions(before.values, after.values, seconds)["by_status"]
        points.append(point)
    return points


def window_figures(samples: Sequence[Sample], now: Sample, *, with_series: bool) -> dict[str, Any]:
    """Everything the panels show for one app: its functions' calls (each, and all
    together), its executions, and (``with_series``) the same over time. ``samples``
    start at or before the window's start; ``now`` is the registry as it is."""
    base = samples[0] if samples else now
    seconds = now.at - base.at
    before, after = base.values, now.values
    # The registry now ends the series, unless the newest sample was just taken (a step
    # of a moment would make a rate of noise).
    recent = bool(samples) and now.at - samples[-1].at < MIN_STEP_SECONDS
    timeline = ([*samples] if recent else [*samples, now]) if with_series else []
    every: Pick = lambda _: True  # noqa: E731
    functions = []
    for name in functions_of((before, after)):
        pick = of_function(name)
        figures = calls(before, after, seconds, pick)
        figures["function"] = name
        figures["instances"] = gauge(after, INSTANCES, pick)
        figures["in_flight"] = gauge(after, IN_FLIGHT, pick)
        if with_series:
            figures["series"] = series(timeline, pick)
        functions.append(figures)
    totals = calls(before, after, seconds, every)
    if with_series:
        totals["series"] = series(timeline, every, with_executions=True)
    return {
        "from": base.at,
        "to": now.at,
        "covered_seconds": round(seconds, 3),
        "functions": functions,
        "totals": totals,
        "executions": executions(before, after, seconds),
    }


def _rate(count: float, seconds: float) -> float:
    return round(count / seconds, 6) if seconds > 0 else 0.0


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
