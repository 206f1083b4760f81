"""Alerts of the local target: rules measured on real data, webhook notifications.

    AlertEvaluator (every 5 s): enabled rules --measure--> value --decide--> state
        + notification --> the platform store's outbox
    NotificationSender (every 0.5 s): outbox --POST JSON, retries--> the rule's webhook

- ``evaluation``: the pure part (``evaluate``, ``decide``, the payload);
- ``measure``: failed executions and execution latency from the execution store;
- ``error_rate``: function error rates from the Prometheus counters;
- ``evaluator``, ``sender``: the two loops; ``periodic``: the loop they share.

``docs/alerts.md`` describes the rule kinds, the semantics and the payload.
"""

from __future__ import annotations

from flowapp.local.alerts.evaluation import Measurements, decide, evaluate, percentile
from flowapp.local.alerts.evaluator import AlertEvaluator
from flowapp.local.alerts.periodic import Periodic
from flowapp.local.alerts.sender import NotificationSender, RetryPolicy

__all__ = [
    "AlertEvaluator",
    "Measurements",
    "NotificationSender",
    "Periodic",
    "RetryPolicy",
    "decide",
    "evaluate",
    "percentile",
]
