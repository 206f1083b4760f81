"""``spec.limits``: how much one execution of the app may take from the platform.

    limits:
      taskRuns: 10000     # task runs per execution
      forItems: 5000      # items one `for` may iterate over
      stateSize: 16Mi     # the execution's saved state: bytes, or with Ki, Mi or Gi
      cpuTime: PT1M       # CPU time spent deciding it (an ISO 8601 duration, or seconds)

Every key is optional (the default applies) and bounded by a ceiling, so an app cannot
lift its own limits beyond what a shared server can afford. The engine enforces the
first two, the runtime the last two (``flowapp.engine.limits``).
"""

from __future__ import annotations

import re
from typing import Any

from flowapp.apps.keys import Keys, kind_of
from flowapp.dsl.problems import Problem
from flowapp.engine.limits import DEFAULT_LIMITS, ExecutionLimits

POINTER = "/spec/limits"
LIMIT_KEYS = ("taskRuns", "forItems", "stateSize", "cpuTime")
MAX_TASK_RUNS = 10_000_000
MAX_FOR_ITEMS = 1_000_000
MAX_STATE_BYTES = 64 << 20
MIN_STATE_BYTES = 1 << 10
MAX_CPU_SECONDS = 3600.0

_SIZE = re.compile(r"^\s*(\d+)\s*(Ki|Mi|Gi)?\s*$")
_UNITS = {None: 1, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30}


def read_limits(value: Any, problems: list[Problem]) -> ExecutionLimits:
    """The limits ``spec.limits`` sets, the defaults for what it leaves out."""
    if value is None:
        return DEFAULT_LIMITS
    keys = Keys(value, POINTER, problems)
    defaults = DEFAULT_LIMITS
    task_runs = keys.integer(
        "taskRuns", default=defaults.task_runs, minimum=1, maximum=MAX_TASK_RUNS
    )
    for_items = keys.integer(
        "forItems", default=defaults.for_items, minimum=0, maximum=MAX_FOR_ITEMS
    )
    state_bytes = _size(keys, "stateSize", defaults.state_bytes)
    cpu_seconds = keys.duration("cpuTime")
    if cpu_seconds is not None and cpu_seconds > MAX_CPU_SECONDS:
        keys.problem("cpuTime", f"`cpuTime` must be at most {MAX_CPU_SECONDS:g} s (PT1H)")
        cpu_seconds = None
    keys.finish()
    return ExecutionLimits(
        task_runs=task_runs,
        for_items=for_items,
        state_bytes=state_bytes,
        cpu_seconds=defaults.cpu_seconds if cpu_seconds is None else cpu_seconds,
    )


def _size(keys: Keys, key: str, default: int) -> int:
    value = keys.raw(key)
    if value is None:
        return default
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    match = _SIZE.match(text) if isinstance(text, str) else None
    if match is None:
        found = repr(value) if isinstance(value, str) else kind_of(value)
        keys.problem(key, f"`{key}` must be a number of bytes such as 16Mi, not {found}")
        return default
    size = int(match.group(1)) * _UNITS[match.group(2)]
    if not MIN_STATE_BYTES <= size <= MAX_STATE_BYTES:
        keys.problem(key, f"`{key}` must be between 1Ki and 64Mi, not {value}")
        return default
    return size
