"""How long finished executions are kept, and purging the older ones batch by batch.

A retention is a duration: ``30d``, ``12h``, ``90m``, ``45s``, ``2w``, a number of
seconds, or ISO 8601 (``P30D``, ``PT12H``). The platform keeps finished executions
``DEFAULT_RETENTION`` unless told otherwise (``flowapp up --retention``); an app may
name its own. A purge deletes an execution with its task runs and all that hangs off it
(``Store.purge_batch``), a small transaction at a time, and pauses between batches in
proportion to the time the last one took, so the engine sharing the database keeps most
of it.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from flowapp.dsl.durations import DurationError, parse_iso_duration
from flowapp.store.port import Purged, PurgeFilter, Store

DAY = 86_400.0
DEFAULT_RETENTION = 30 * DAY
BATCH = 500  # task runs (and executions) per transaction
# After a batch that took t seconds, wait PAUSE_RATIO * t (at least MIN_PAUSE): the purge
# holds the database a third of the time at most.
PAUSE_RATIO = 2.0
MIN_PAUSE = 0.005

_SHORT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?\s*$", re.IGNORECASE)
_UNITS = {None: 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": DAY, "w": 7 * DAY}
EXAMPLES = "30d, 12h, 90m, 45s, 2w, or ISO 8601 such as P30D"


def parse_retention(text: str) -> float:
    """Seconds in a retention such as ``30d`` or ``P30D``; ``ValueError`` says why not."""
    match = _SHORT.match(text)
    if match is not None:
        seconds = float(match.group(1)) * _UNITS[(match.group(2) or "").lower() or None]
    else:
        try:
            seconds = parse_iso_duration(text)
        except DurationError:
            raise ValueError(f"`{text}` is not a duration such as {EXAMPLES}") from None
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"`{text}` is not a duration such as {EXAMPLES}")
    return seconds


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long each app's finished executions are kept: ``per_app`` for the apps that
    name their own, ``default`` for the others and for executions of no app."""

    default: float = DEFAULT_RETENTION
    per_app: Mapping[str, float] = field(default_factory=dict)

    def filters(self, now: float) -> list[PurgeFilter]:
        """What to purge at ``now``: one filter per app of its own, one for the rest."""
        own = [PurgeFilter(now - keep, app=app) for app, keep in sorted(self.per_app.items())]
        rest = PurgeFilter(now - self.default, except_apps=tuple(sorted(self.per_app)))
        return [*own, rest]


def purge_batches(
    store: Store, where: PurgeFilter, *, batch: int = BATCH
) -> Iterator[tuple[Purged, float]]:
    """Purge batch after batch until nothing is left; yields what each batch deleted and
    how long to pause before the next, which the caller spends as it likes (sleeping,
    or awaiting on an event loop)."""
    while True:
        started = time.perf_counter()
        done = store.purge_batch(where, limit=batch)
        if done.nothing:
            return
        yield done, max(MIN_PAUSE, PAUSE_RATIO * (time.perf_counter() - started))


def purge(
    store: Store,
    where: PurgeFilter,
    *,
    batch: int = BATCH,
    progress: Callable[[Purged], object] | None = None,
) -> Purged:
    """Purge everything ``where`` selects, pausing between batches (blocking)."""
    total = Purged()
    for done, pause in purge_batches(store, where, batch=batch):
        total += done
        if progress is not None:
            progress(total)
        time.sleep(pause)
    return total
