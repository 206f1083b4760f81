"""Group commit on SQL: apply a folded ``CommitPlan`` inside the caller's transaction.

One statement per kind of change, each executed with the parameters of the whole batch
(``executemany``: pipelined by psycopg 3, a single prepared loop in sqlite3):

1. lock and read the owners of the batch's executions; raise ``LeaseLost`` or
   ``StoreError`` before anything is written (the transaction then rolls back);
2. update the executions; 3. upsert task runs; 4. drop then upsert timers and
   subscriptions; 5. append to the outbox; 6. delete the consumed signals.

Parameters are sorted by execution id so that concurrent batches touch rows in the same
order (PostgreSQL then queues them instead of detecting deadlocks).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar

from sqlalchemy.engine import Connection

from flowapp.store.plan import CommitPlan, check_leases
from flowapp.store.sql import rows
from flowapp.store.sql.chunks import chunked
from flowapp.store.sql.raw import RawStatements
from flowapp.store.sql.statements import WriteStatements

T = TypeVar("T")


class _Effect(Protocol):
    @property
    def execution_id(self) -> str: ...

    @property
    def effect_id(self) -> str: ...


E = TypeVar("E", bound=_Effect)


def apply_plan(
    conn: Connection, plan: CommitPlan, statements: WriteStatements, raw: RawStatements
) -> None:
    if not plan.patches:
        return
    ids = sorted(plan.patches)
    _lock_and_check(conn, plan, ids, statements, raw)

    def many(statement: Any, items: Iterable[T], to_params: Callable[[T], dict[str, Any]]) -> None:
        raw.execute_many(conn, statement, [to_params(item) for item in items])

    many(statements.update_execution, ids, lambda i: rows.patch_params(plan.patches[i]))
    many(statements.upsert_task_run, _sorted(plan.task_runs), rows.task_run_row)
    many(statements.delete_timer, sorted(plan.timers_dropped()), rows.effect_key_params)
    many(statements.upsert_timer, _by_effect(plan.timers_kept()), rows.timer_row)
    dropped = sorted(plan.subscriptions_dropped())
    many(statements.delete_subscription, dropped, rows.effect_key_params)
    kept = _by_effect(plan.subscriptions_kept())
    many(statements.upsert_subscription, kept, rows.subscription_row)
    # The outbox keeps decision order: its ids are the order to carry commands out in.
    many(statements.insert_outbox, plan.outbox, rows.outbox_row)
    for signal_ids in chunked(plan.signals_consumed):
        raw.execute_in(conn, statements.delete_signals, "ids", signal_ids)


def _lock_and_check(
    conn: Connection,
    plan: CommitPlan,
    ids: list[str],
    statements: WriteStatements,
    raw: RawStatements,
) -> None:
    owners: dict[str, str | None] = {}
    for execution_ids in chunked(ids):
        found = raw.execute_in(conn, statements.lock_executions, "ids", execution_ids)
        owners.update((execution_id, owner) for execution_id, owner in found)
    check_leases(plan, owners)


def _sorted(mapping: dict[Any, T]) -> list[T]:
    return [mapping[key] for key in sorted(mapping)]


def _by_effect(records: Iterable[E]) -> list[E]:
    return sorted(records, key=lambda r: (r.execution_id, r.effect_id))
