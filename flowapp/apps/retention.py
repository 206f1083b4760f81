"""``spec.retention``: how long the app's finished executions are kept.

    retention: P90D     # an ISO 8601 duration, a number of seconds, or {days: 90}

The server keeps finished executions for its own retention (``flowapp up --retention``,
30 days) unless the app names one; then they are deleted with their task runs
(``flowapp.store.retention``). At most ``MAX_RETENTION`` (ten years).
"""

from __future__ import annotations

from typing import Any

from flowapp.apps.keys import Keys
from flowapp.dsl.problems import Problem

POINTER = "/spec"
MAX_RETENTION = 3650 * 86_400.0


def read_retention(spec: dict[str, Any], problems: list[Problem]) -> float | None:
    """Seconds ``spec.retention`` keeps finished executions; None when it says nothing."""
    if spec.get("retention") is None:
        return None
    keys = Keys({"retention": spec["retention"]}, POINTER, problems)
    seconds = keys.duration("retention")
    if seconds is not None and seconds > MAX_RETENTION:
        keys.problem("retention", "`retention` must be at most ten years (P3650D)")
        return None
    return seconds
