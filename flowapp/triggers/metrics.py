"""What triggers did, in Prometheus form: events delivered, their lag, redeliveries,
dead letters, and whether each trigger is connected.

Series, all ``{app,trigger}`` (names from the FlowApp, so bounded):

- ``flowapp_trigger_events_total``: events whose execution was created;
- ``flowapp_trigger_lag_seconds``: from an event's own ``time`` (the broker's timestamp
  of the message, the cron fire time) to its execution created durably; events without
  a ``time`` are not measured;
- ``flowapp_trigger_redeliveries_total``: messages handed back for another delivery
  because starting their execution failed (cron: a fire tried again);
- ``flowapp_trigger_dead_letters_total``: messages given up, sent to the dead-letter
  destination (cron: a fire given up after its retries);
- ``flowapp_trigger_connected``: 1 while the trigger is ready, else 0 (read at scrape).

A trigger is handed a :class:`TriggerObserver` (one per trigger); without one it
reports nothing (:data:`UNOBSERVED`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from flowapp.triggers.base import TriggerStatus

log = logging.getLogger(__name__)

LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900)
LABELS = ("app", "trigger")

# (app, trigger) -> status, read at each scrape
Statuses = Callable[[], Mapping[tuple[str, str], TriggerStatus]]


class TriggerObserver:
    """What one trigger tells about its messages; these do nothing."""

    def accepted(self, lag: float | None) -> None:
        """An event's execution was created, ``lag`` seconds after the event's time."""

    def redelivered(self) -> None:
        """A message goes back for another delivery."""

    def dead_lettered(self) -> None:
        """A message was given up."""


UNOBSERVED = TriggerObserver()


class TriggerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.events = Counter(
            "flowapp_trigger_events",
            "Events a trigger delivered whose execution was created.",
            LABELS,
            registry=registry,
        )
        self.lag = Histogram(
            "flowapp_trigger_lag_seconds",
            "From an event's own time (message timestamp, cron fire time) to its execution.",
            LABELS,
            buckets=LAG_BUCKETS,
            registry=registry,
        )
        self.redeliveries = Counter(
            "flowapp_trigger_redeliveries",
            "Messages handed back for another delivery because their execution could not start.",
            LABELS,
            registry=registry,
        )
        self.dead_letters = Counter(
            "flowapp_trigger_dead_letters",
            "Messages given up and sent to the dead-letter destination (cron: fires given up).",
            LABELS,
            registry=registry,
        )

    def observer(self, app: str, trigger: str) -> TriggerObserver:
        """The observer of one trigger; its counters show 0 from now on."""
        return _Observed(self, app, trigger)

    def watch(self, statuses: Statuses) -> None:
        """Report ``flowapp_trigger_connected`` from ``statuses`` at each scrape."""
        self.registry.register(_Connected(statuses))

    def forget(self, app: str, trigger: str) -> None:
        """Drop a trigger's series (its app was deleted, or no longer has it)."""
        for metric in (self.events, self.lag, self.redeliveries, self.dead_letters):
            try:
                metric.remove(app, trigger)
            except KeyError:
                continue


class _Observed(TriggerObserver):
    def __init__(self, metrics: TriggerMetrics, app: str, trigger: str) -> None:
        self._events = metrics.events.labels(app, trigger)
        self._lag = metrics.lag.labels(app, trigger)
        self._redeliveries = metrics.redeliveries.labels(app, trigger)
        self._dead_letters = metrics.dead_letters.labels(app, trigger)

    def accepted(self, lag: float | None) -> None:
        self._events.inc()
        if lag is not None:
            self._lag.observe(max(0.0, lag))

    def redelivered(self) -> None:
        self._redeliveries.inc()

    def dead_lettered(self) -> None:
        self._dead_letters.inc()


def event_lag(event: Mapping[str, Any], now: float) -> float | None:
    """Seconds from the event's ``time`` attribute to ``now``; None without a readable one."""
    text = event.get("time")
    if not isinstance(text, str):
        return None
    try:
        return now - datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class _Connected(Collector):
    def __init__(self, statuses: Statuses) -> None:
        self._statuses = statuses

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "flowapp_trigger_connected",
            "1 while a trigger is connected and delivering (ready), else 0.",
            labels=list(LABELS),
        )
        try:
            found = dict(self._statuses())
        except RuntimeError:  # changed on the event loop's thread while read: skip a scrape
            log.debug("trigger statuses changed while read", exc_info=True)
            found = {}
        for (app, trigger), status in sorted(found.items()):
            family.add_metric([app, trigger], 1.0 if status.ready else 0.0)
        yield family
