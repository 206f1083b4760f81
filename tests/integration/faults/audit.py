"""What the fault tests check after the dust settles, and the snapshots they take to know.

- ``read_ledger``: every call the ledger function received (one line per delivery).
- ``snapshot``: right after an engine is killed, the committed state of each unfinished
  execution tells which calls had no committed result (their keys may legitimately be
  delivered again) and which timers were armed.
- ``redeliveries``: the keys delivered more than once, each checked against the snapshots.
- ``task_run_problems``: every task must be recorded exactly once per occurrence and
  attempt, and completed.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

from flowapp.engine.state import ExecutionState
from flowapp.store.port import ExecutionFilter, Store, StoreUnavailable
from flowapp.store.sql import SqlStore
from flowapp.store.sql.tables import executions

UNFINISHED = ("pending", "running", "waiting", "suspended")


@dataclass(frozen=True, slots=True)
class Delivery:
    key: str
    execution: str
    task: str
    attempt: int
    op: str | None
    at: float


def read_ledger(path: Path) -> list[Delivery]:
    if not path.exists():
        return []
    names = ("key", "execution", "task", "attempt", "op", "at")
    lines = path.read_bytes().splitlines()
    return [Delivery(**{name: orjson.loads(line)[name] for name in names}) for line in lines]


@dataclass
class Snapshot:
    """The store as an engine left it when it was killed."""

    taken_at: float
    unfinished: int
    outstanding_calls: set[str] = field(default_factory=set)  # idempotency keys
    timers_due: dict[str, float] = field(default_factory=dict)  # effect key -> due_at


def snapshot(store: Store, execution_ids: Iterable[str]) -> Snapshot:
    """Calls and timers the committed states still wait for."""
    shot = Snapshot(taken_at=time.time(), unfinished=0)
    for execution_id in execution_ids:
        record = store.get_execution(execution_id)
        if record is None or record.status not in UNFINISHED:
            continue
        shot.unfinished += 1
        data = store.load_state(execution_id)
        if data is not None:  # None: submitted, not started yet
            _add_effects(shot, execution_id, data)
    return shot


def _add_effects(shot: Snapshot, execution_id: str, state: dict[str, Any]) -> None:
    for effect_id, effect in ExecutionState.from_json(state).effects.items():
        command: Any = effect.command
        if command.kind == "call-function":
            shot.outstanding_calls.add(command.idempotency_key)
        elif command.kind == "start-timer":
            shot.timers_due[f"{execution_id}/{effect_id}"] = command.due_at


def redeliveries(deliveries: Sequence[Delivery], snapshots: Sequence[Snapshot]) -> list[str]:
    """Problems with calls delivered more than once. A key may come again only if some
    snapshot had it outstanding, and at most once more per such snapshot."""
    problems = []
    for key, count in Counter(d.key for d in deliveries).items():
        if count == 1:
            continue
        allowed = 1 + sum(key in s.outstanding_calls for s in snapshots)
        if count > allowed:
            problems.append(f"{key} delivered {count} times, at most {allowed} allowed")
    return problems


def one_key_per_call(deliveries: Sequence[Delivery]) -> list[str]:
    """A call (execution, task, attempt) must always carry the same idempotency key."""
    keys: dict[tuple[str, str, int], set[str]] = {}
    for d in deliveries:
        keys.setdefault((d.execution, d.task, d.attempt), set()).add(d.key)
    return [f"{call} was sent with keys {sorted(k)}" for call, k in keys.items() if len(k) > 1]


def task_run_problems(store: Store, execution_id: str, expected: Sequence[str]) -> list[str]:
    """Each expected task recorded once per occurrence and attempt, all completed."""
    runs = store.task_runs(execution_id)
    problems = []
    seen = Counter((r.occurrence, r.attempt) for r in runs)
    problems += [
        f"{execution_id}: {occurrence} attempt {attempt} recorded {n} times"
        for (occurrence, attempt), n in seen.items()
        if n > 1
    ]
    if sorted(r.name for r in runs) != sorted(expected):
        problems.append(f"{execution_id}: task runs {[r.name for r in runs]}, not {expected}")
    problems += [f"{execution_id}: {r.name} is {r.status}" for r in runs if r.status != "completed"]
    return problems


def completion_problems(
    store: Store,
    submitted: Sequence[str],
    output_of: Callable[[int], Any],
    tasks: Sequence[str],
) -> list[str]:
    """Every submitted execution (the n-th with input n) completed with ``output_of(n)``
    and ran each of ``tasks`` once; what is not so, one line each."""
    problems = []
    for n, execution_id in enumerate(submitted):
        record = store.get_execution(execution_id)
        if record is None or record.status != "completed":
            problems.append(f"{execution_id}: {record.status if record else 'missing'}")
        elif record.output != output_of(n):
            problems.append(f"{execution_id}: output {record.output!r}, not {output_of(n)!r}")
        problems += task_run_problems(store, execution_id, tasks)
    return problems


def unfinished_count(store: Store) -> int:
    return sum(store.count_executions(ExecutionFilter(status=s)) for s in UNFINISHED)


def wait_until_finished(
    store: Store, total: int, *, timeout: float, tails: Callable[[], str] | None = None
) -> None:
    """Poll until ``total`` executions are final; ``tails()`` explains a timeout. Polls
    through a database restart (an unavailable store just means "not yet")."""
    deadline = time.monotonic() + timeout
    while not _all_final(store, total):
        if time.monotonic() > deadline:
            counts = {s: store.count_executions(ExecutionFilter(status=s)) for s in UNFINISHED}
            logs = tails() if tails is not None else ""
            raise AssertionError(f"executions still unfinished: {counts}\n{logs}")
        time.sleep(0.1)


def _all_final(store: Store, total: int) -> bool:
    try:
        return not unfinished_count(store) and store.count_executions(ExecutionFilter()) >= total
    except StoreUnavailable:
        return False


def all_ids(store: Store) -> list[str]:
    return [record.id for record in store.list_executions(ExecutionFilter(), limit=100_000).items]


def held_by(store: SqlStore, owner: str) -> tuple[Snapshot, dict[str, float]]:
    """``snapshot`` of what ``owner`` holds, in one query (fast enough to be taken before
    anyone takes over), with each held execution's ``lease_until``."""
    c = executions.c
    query = sa.select(c.id, c.state, c.lease_until).where(
        c.owner == owner, c.status.in_(UNFINISHED)
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    shot = Snapshot(taken_at=time.time(), unfinished=len(rows))
    for row in rows:
        if row.state is not None:
            _add_effects(shot, row.id, row.state)
    return shot, {row.id: row.lease_until for row in rows}
