"""Measurements read from the execution store: failed executions and execution latency.

Both are synchronous store reads (the evaluator runs them in a worker thread) bounded in
what they read, so a busy app costs the same as a quiet one:

- ``failed_executions``: ``count_executions`` of the app's ``faulted`` executions
  *created* in the window (the store filters on ``created_at``), one indexed count;
- ``latency_p95``: ``ended_at - started_at`` of the app's executions that *ended* in the
  window with ``completed`` or ``faulted`` (a cancellation measures when someone gave
  up, not how fast the app runs). The store can only filter on ``created_at``, so this
  reads the app's executions created from ``LOOKBACK_SECONDS`` before the window on,
  newest first, at most ``MAX_ROWS`` of them, and keeps those that ended in the window.
  An execution created before that lookback and ending in the window is not seen, and
  on an app busier than ``MAX_ROWS`` per window the value comes from the newest ones.
"""

from __future__ import annotations

from flowapp.store import ExecutionFilter, ExecutionRecord, Store

MAX_ROWS = 5_000  # executions read per latency measurement, newest first
LOOKBACK_SECONDS = 3_600.0  # how long before its window an execution may have started
PAGE_SIZE = 500
LATENCY_STATUSES = frozenset({"completed", "faulted"})


def failed_executions(store: Store, app: str, *, now: float, window: float) -> int:
    """Faulted executions of ``app`` created in the last ``window`` seconds."""
    where = ExecutionFilter(app=app, status="faulted", started_after=now - window)
    return store.count_executions(where)


def execution_durations(
    store: Store,
    app: str,
    *,
    now: float,
    window: float,
    max_rows: int = MAX_ROWS,
    lookback: float = LOOKBACK_SECONDS,
) -> list[float]:
    """Durations (seconds) of ``app``'s executions that ended in the last ``window``."""
    since = now - window
    where = ExecutionFilter(app=app, started_after=since - lookback)
    durations: list[float] = []
    cursor: str | None = None
    read = 0
    while read < max_rows:
        page = store.list_executions(where, limit=min(PAGE_SIZE, max_rows - read), cursor=cursor)
        read += len(page.items)
        durations.extend(d for r in page.items if (d := _duration(r, since)) is not None)
        if page.next_cursor is None or not page.items:
            break
        cursor = page.next_cursor
    return durations


def _duration(record: ExecutionRecord, since: float) -> float | None:
    """The execution's duration if it ended (completed or faulted) at or after ``since``."""
    started, ended = record.started_at, record.ended_at
    if record.status not in LATENCY_STATUSES or started is None or ended is None:
        return None
    return max(0.0, ended - started) if ended >= since else None
