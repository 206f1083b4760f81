"""Samples of the Prometheus counters behind ``/metrics``, kept so that the API can say
what happened over a window: the dashboard's metrics panels.

    CollectorRegistry --sample (every ``step`` s, and at each read)--> Sample: the value
        of every series of an app (functions' calls, durations, instances; executions
        started, finished, durations), keyed by (series name, labels)
    Sample now - the newest sample at or before now - window --> what happened in the
        window (``metrics_figures``)

Counters only grow, so a window is the difference of two samples (Prometheus's
``increase``); percentiles come from the histograms' bucket counts, interpolated within
a bucket as ``histogram_quantile`` does. Samples live in this process (as the registry
does): a window longer than the history (the server started recently) is measured over
the history, and says so (``covered_seconds``). One sample holds a few floats per
function and workflow, each series an ``array`` of doubles aligned with the sample
times: an hour at the default step is 360 values per series.
"""

from __future__ import annotations

import threading
import time
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from prometheus_client import CollectorRegistry

# The families read (sample names start with these); task-level series are left out:
# they are many, and the panels are per app and per function.
FAMILIES = (
    "flowapp_function_requests_total",
    "flowapp_function_request_duration_seconds_bucket",
    "flowapp_function_instances",
    "flowapp_function_requests_in_flight",
    "flowapp_executions_started_total",
    "flowapp_executions_finished_total",
    "flowapp_execution_duration_seconds_bucket",
)
GAUGES = frozenset({"flowapp_function_instances", "flowapp_function_requests_in_flight"})

Key = tuple[str, tuple[tuple[str, str], ...]]  # (sample name, sorted labels)
Values = Mapping[Key, float]


@dataclass(frozen=True, slots=True)
class Sample:
    at: float
    values: Values


def read_registry(registry: CollectorRegistry) -> dict[str, dict[Key, float]]:
    """The current value of every series of ``FAMILIES``, by app."""
    found: dict[str, dict[Key, float]] = {}
    for family in registry.collect():
        for sample in family.samples:
            if sample.name not in _NAMES:
                continue
            app = sample.labels.get("app")
            if not app:
                continue
            key = (sample.name, tuple(sorted(sample.labels.items())))
            found.setdefault(app, {})[key] = float(sample.value)
    return found


_NAMES = frozenset(FAMILIES)


class MetricsHistory:
    """Samples of one registry every ``step`` seconds for ``keep`` seconds. Thread-safe:
    the periodic sampler and the API's reads (in worker threads) share it."""

    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        step: float = 10.0,
        keep: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if step <= 0 or keep < step:
            raise ValueError("step must be > 0 and keep >= step")
        self.registry = registry
        self.step = step
        self.keep = keep
        self.clock = clock
        self._lock = threading.Lock()
        self._times: deque[float] = deque()
        self._series: dict[str, dict[Key, array[float]]] = {}  # by app
        self.sample()  # the baseline: what happened before the server started is not known

    def sample(self) -> None:
        """Record the registry now, unless the newest sample is younger than ``step``."""
        now = self.clock()
        current = read_registry(self.registry)
        with self._lock:
            if self._times and now - self._times[-1] < self.step:
                return
            self._append(now, current)
            self._trim(now)

    def window(self, app: str, seconds: float) -> tuple[list[Sample], Sample]:
        """The samples of ``app`` in the last ``seconds`` (the first one at or before the
        window's start when there is one), and the registry as it is now."""
        self.sample()
        now = self.clock()
        current = read_registry(self.registry).get(app, {})
        with self._lock:
            times = list(self._times)
            series = self._series.get(app, {})
            start = _first_index(times, now - seconds)
            samples = [
                Sample(times[i], {key: values[i] for key, values in series.items()})
                for i in range(start, len(times))
            ]
        return samples, Sample(now, current)

    def _append(self, now: float, current: Mapping[str, Mapping[Key, float]]) -> None:
        length = len(self._times)
        self._times.append(now)
        for app, found in current.items():
            kept = self._series.setdefault(app, {})
            for key, value in found.items():
                if key not in kept:
                    # A series born since the previous sample was 0 until then (a gauge
                    # too: it did not exist).
                    kept[key] = array("d", [0.0] * length)
                kept[key].append(value)
        for kept in self._series.values():
            for key, column in kept.items():
                if len(column) < length + 1:  # gone from the registry: keep its last value
                    column.append(column[-1] if column and key[0] not in GAUGES else 0.0)

    def _trim(self, now: float) -> None:
        drop = 0
        while drop < len(self._times) - 1 and self._times[drop + 1] <= now - self.keep:
            drop += 1
        if not drop:
            return
        for _ in range(drop):
            self._times.popleft()
        for series in self._series.values():
            for values in series.values():
                del values[:drop]


def _first_index(times: Iterable[float], since: float) -> int:
    """The newest sample at or before ``since``, else the oldest."""
    found = 0
    for index, at in enumerate(times):
        if at <= since:
            found = index
        else:
            break
    return found
