"""The alert evaluator: every few seconds, measure each enabled rule and act on it.

    list_alert_rules --> for each enabled rule:
        measure (execution store / Prometheus counters) --evaluate--> value
        get_alert_state --decide--> new state, notification?
        enqueue_notification (the outbox) --> then set_alert_state

The enqueue comes before the state write, so a crash in between loses no
notification. Once a notification is queued, the state that goes with it is the truth:
if writing it fails, the evaluator keeps it in memory and uses it instead of the stored
one next round (writing it again), so the transition is neither queued twice nor left
without its resolution. After a process crash in between, the next round finds the old
state, decides the same transition again and builds the same notification ``id`` (see
``evaluation.py``): the receiver gets it twice and can drop the copy by that ``id``.
The sender (``sender.py``) drains the outbox.

Rules that are disabled are not evaluated: their state stays as it was until they are
enabled again. An error-rate rule with no rate yet (fewer than two samples since this
process started, see ``error_rate.py``) is skipped, so a restart never resolves an alert
by itself. Store calls are blocking; a round runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry

from flowapp.local.alerts import measure
from flowapp.local.alerts.error_rate import (
    RequestHistory,
    Samples,
    counts_for,
    sample_requests,
)
from flowapp.local.alerts.evaluation import (
    FAILED_EXECUTIONS,
    FUNCTION_ERROR_RATE,
    LATENCY_P95,
    Measurements,
    decide,
    evaluate,
)
from flowapp.local.alerts.periodic import Periodic
from flowapp.store import Store, StoreError
from flowapp.store.platform import AlertRuleRecord, AlertStateRecord, NotFound
from flowapp.store.platform.port import AlertStore

log = logging.getLogger(__name__)


class AlertEvaluator:
    """Measures and decides every enabled rule every ``interval`` seconds.

    ``registry``: where ``FunctionMetrics`` counts function calls (None: no error rates,
    every such rule measures 0). ``renotify_seconds``: remind while firing (None: never).
    ``max_rows``: executions read per latency measurement.
    """

    def __init__(
        self,
        store: Store,
        platform_store: AlertStore,
        registry: CollectorRegistry | None,
        *,
        interval: float = 5.0,
        clock: Callable[[], float] = time.time,
        renotify_seconds: float | None = None,
        max_rows: int = measure.MAX_ROWS,
    ) -> None:
        self._store = store
        self._platform = platform_store
        self._registry = registry
        self._clock = clock
        self._renotify = renotify_seconds
        self._max_rows = max_rows
        self._history = RequestHistory()
        self._unsaved: dict[int, AlertStateRecord] = {}  # decided states not yet written
        self._periodic = Periodic("alert evaluator", self.evaluate_once, interval)

    async def start(self) -> None:
        await self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()

    async def evaluate_once(self) -> int:
        """One round at the clock's ``now``; the number of notifications queued."""
        return await asyncio.to_thread(self.run_round, self._clock())

    def run_round(self, now: float) -> int:
        """One round, blocking (``evaluate_once`` runs it in a thread)."""
        rules = [rule for rule in self._platform.list_alert_rules() if rule.enabled]
        ids = {rule.id for rule in rules}
        self._history.retain(ids)
        self._unsaved = {k: v for k, v in self._unsaved.items() if k in ids}
        wanted = any(rule.kind == FUNCTION_ERROR_RATE for rule in rules)
        samples = sample_requests(self._registry) if wanted else {}
        return sum(self._evaluate_safely(rule, samples, now) for rule in rules)

    def _evaluate_safely(self, rule: AlertRuleRecord, samples: Samples, now: float) -> int:
        """One rule; its failure is logged and does not stop the others."""
        try:
            return self._evaluate(rule, samples, now)
        except NotFound:
            return 0  # deleted (with its app?) since the round listed it
        except (StoreError, ValueError) as exc:
            log.warning("alert rule %s (%s/%s): %s", rule.id, rule.app, rule.name, exc)
            return 0

    def _evaluate(self, rule: AlertRuleRecord, samples: Samples, now: float) -> int:
        measurements = self.measure(rule, samples, now)
        if measurements is None:
            return 0
        value = evaluate(rule, measurements)
        unsaved = self._unsaved.get(rule.id)  # kept until written, even if this round fails
        state = unsaved or self._platform.get_alert_state(rule.id)
        new_state, notification = decide(rule, state, value, now, renotify_seconds=self._renotify)
        if notification is not None:
            self._platform.enqueue_notification(rule.id, notification, now=now)
        if notification is not None or unsaved is not None or new_state != state:
            self._unsaved[rule.id] = new_state  # the truth from here on, written or not
            self._platform.set_alert_state(new_state)
            del self._unsaved[rule.id]
        return 0 if notification is None else 1

    def measure(self, rule: AlertRuleRecord, samples: Samples, now: float) -> Measurements | None:
        """What ``evaluate`` needs for ``rule``; None when there is nothing to go on yet."""
        window = rule.window_seconds
        if rule.kind == FAILED_EXECUTIONS:
            count = measure.failed_executions(self._store, rule.app, now=now, window=window)
            return Measurements(failed_executions=count)
        if rule.kind == LATENCY_P95:
            durations = measure.execution_durations(
                self._store, rule.app, now=now, window=window, max_rows=self._max_rows
            )
            return Measurements(durations=durations)
        if rule.kind == FUNCTION_ERROR_RATE:
            counts = counts_for(samples, rule.app, rule.function)
            delta = self._history.delta(rule.id, counts, now=now, window=window)
            return None if delta is None else Measurements(calls=delta.calls, errors=delta.errors)
        raise ValueError(f"unknown alert kind {rule.kind!r}")
