"""What changed in one execution since the last look: the source of its live stream.

    store --RunWatch.poll (every ~0.2 s, in a worker thread)--> Poll:
        the execution's record, whether it changed, and the task runs that are new or
        changed since the previous poll

The watch reads the execution store, which every engine process writes (one machine, or
several sharing PostgreSQL), so live updates need no channel from the engine and show
the same thing whichever process runs the execution. A poll costs one read of the
execution's row; only when that row moved (``updated_at``, ``status``) does it read task
runs: the new ones (a range of the primary key after the newest id seen) and, by id, the
ones it saw unfinished. A run that ended never changes again, so an execution with
10,000 finished runs costs nothing more per poll than one with ten.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flowapp.store.port import ExecutionRecord, Store, TaskRunRecord
from flowapp.store.rules import FINAL_STATUSES

Fingerprint = tuple[str, float | None, int]


@dataclass(frozen=True, slots=True)
class Poll:
    record: ExecutionRecord | None  # None: the execution is gone (its app was deleted)
    changed: bool  # the execution's row moved since the previous poll
    runs: list[TaskRunRecord] = field(default_factory=list)  # new or changed, by id

    @property
    def final(self) -> bool:
        return self.record is None or self.record.status in FINAL_STATUSES


class RunWatch:
    """One watcher's view of one execution. Not thread-safe: one poll at a time."""

    def __init__(self, execution_id: str, *, after: int = 0) -> None:
        self.execution_id = execution_id
        self.newest = max(after, 0)  # runs up to this id are known to the client
        self.unfinished: dict[int, Fingerprint] = {}
        self._row: tuple[float | None, str] | None = None

    def poll(self, store: Store) -> Poll:
        record = store.get_execution(self.execution_id)
        if record is None:
            return Poll(None, changed=self._row is not None)
        row = (record.updated_at, record.status)
        if row == self._row:
            return Poll(record, changed=False)
        self._row = row
        return Poll(record, changed=True, runs=self._changed_runs(store))

    def _changed_runs(self, store: Store) -> list[TaskRunRecord]:
        # Runs are read after the row: they are at least as new as the status it gave.
        again = store.task_runs_by_id(self.execution_id, list(self.unfinished))
        changed = [run for run in again if _fingerprint(run) != self.unfinished.get(run.id)]
        fresh = store.task_runs(self.execution_id, after=self.newest)
        for run in (*again, *fresh):
            self._track(run)
        return sorted([*changed, *fresh], key=lambda run: run.id)

    def _track(self, run: TaskRunRecord) -> None:
        self.newest = max(self.newest, run.id)
        if run.ended_at is None and run.status not in ENDED_RUN_STATUSES:
            self.unfinished[run.id] = _fingerprint(run)
        else:
            self.unfinished.pop(run.id, None)


ENDED_RUN_STATUSES = frozenset({"completed", "faulted", "cancelled", "skipped"})


def _fingerprint(run: TaskRunRecord) -> Fingerprint:
    return (run.status, run.ended_at, run.attempt)
