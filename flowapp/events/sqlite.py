"""The SQLite ``BrokerStore``: the embedded default (SQLAlchemy Core, stdlib ``sqlite3``).

Tables: ``events`` (seq, source, id, JSON body, published_at; unique on source + id, which
is how duplicates are dropped) and ``deliveries`` (subscription, event seq, attempts,
next attempt time, status, last error). The file runs in WAL mode so readers do not wait
for the writer; ``synchronous=FULL`` by default so that a 202 from the ingress means the
event survives a power cut, not only a process crash (``normal`` trades that for speed).

All database work runs on one dedicated worker thread: the event loop never blocks, the
one connection is only touched by the thread that made it, and SQLite's single writer
never contends with itself. SQLAlchemy errors become ``StoreError`` here, at the adapter.
The schema version lives in ``PRAGMA user_version``; a newer file is refused.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy import event as sa_event
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from flowapp.events.cloudevents import Event, event_key, from_json, to_json
from flowapp.events.errors import StoreError
from flowapp.events.store import DeadLetter, Due, PendingDelivery, Settlement, Status

SCHEMA_VERSION = 1
_T = TypeVar("_T")

metadata = MetaData()
events = Table(
    "events",
    metadata,
    Column("seq", Integer, primary_key=True),
    Column("source", Text, nullable=False),
    Column("id", Text, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("published_at", Float, nullable=False),
    UniqueConstraint("source", "id", name="events_identity"),
    sqlite_autoincrement=True,  # sequences are never reused, even after a purge
)
deliveries = Table(
    "deliveries",
    metadata,
    Column("subscription", Text, primary_key=True),
    Column("seq", Integer, ForeignKey("events.seq"), primary_key=True),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Float, nullable=False),
    Column("status", Text, nullable=False),
    Column("last_error", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("deliveries_due", "subscription", "status", "next_attempt_at"),
)
_WAITING = (Status.PENDING.value, Status.DEAD.value)


class SqliteStore:
    def __init__(self, path: str, *, synchronous: str = "full") -> None:
        if synchronous.lower() not in ("full", "normal"):
            raise ValueError(f"synchronous must be `full` or `normal`, not {synchronous!r}")
        self.path = path
        self._synchronous = synchronous.upper()
        self._executor: ThreadPoolExecutor | None = None
        self._engine: Engine | None = None

    # --- lifecycle -----------------------------------------------------------------

    async def open(self) -> None:
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="flowapp-events-sqlite")
        await self._call(self._open)

    async def close(self) -> None:
        if self._executor is None:
            return
        await self._call(self._dispose)
        self._executor.shutdown(wait=True)
        self._executor = None

    def _open(self) -> None:
        engine = create_engine(f"sqlite:///{self.path}")
        sa_event.listen(engine, "connect", self._configure)
        with engine.begin() as conn:
            version = conn.exec_driver_sql("PRAGMA user_version").scalar_one()
            if version > SCHEMA_VERSION:
                raise StoreError(f"{self.path} has schema {version}; this flowapp knows 1")
            if version < SCHEMA_VERSION:
                metadata.create_all(conn)
                conn.exec_driver_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")
        self._engine = engine

    def _configure(self, dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute(f"PRAGMA synchronous = {self._synchronous}")
        cursor.execute("PRAGMA busy_timeout = 5000")
        cursor.close()

    def _dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    async def _call(self, fn: Callable[..., _T], *args: Any) -> _T:
        if self._executor is None:
            raise StoreError(f"sqlite store {self.path} is not open")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, functools.partial(fn, *args))
        except SQLAlchemyError as exc:
            raise StoreError(f"sqlite store {self.path}: {exc}") from exc

    def _begin(self) -> Any:
        if self._engine is None:
            raise StoreError(f"sqlite store {self.path} is not open")
        return self._engine.begin()

    # --- the port ------------------------------------------------------------------

    async def append(self, event: Event, subscriptions: Sequence[str], *, now: float) -> bool:
        return await self._call(self._append, event, tuple(subscriptions), now)

    async def due(self, subscription: str, *, now: float, limit: int) -> Due:
        return await self._call(self._due, subscription, now, limit)

    async def settle(self, settlement: Settlement, *, now: float) -> None:
        await self._call(self._settle, settlement, now)

    async def dead(self, subscription: str | None = None, *, limit: int = 100) -> list[DeadLetter]:
        return await self._call(self._dead, subscription, limit)

    async def forget(self, subscription: str) -> None:
        await self._call(self._forget, subscription)

    async def purge(self, *, before: float) -> int:
        return await self._call(self._purge, before)

    # --- the work, on the worker thread --------------------------------------------

    def _append(self, event: Event, subscriptions: tuple[str, ...], now: float) -> bool:
        source, event_id = event_key(event)
        row = {"source": source, "id": event_id, "body": to_json(event), "published_at": now}
        statement = sqlite_insert(events).values(row).on_conflict_do_nothing()
        with self._begin() as conn:
            seq = conn.execute(statement.returning(events.c.seq)).scalar_one_or_none()
            if seq is None:
                return False
            if subscriptions:
                conn.execute(
                    insert(deliveries), [_new_delivery(n, seq, now) for n in subscriptions]
                )
            return True

    def _due(self, subscription: str, now: float, limit: int) -> Due:
        pending = (deliveries.c.subscription == subscription) & (
            deliveries.c.status == Status.PENDING.value
        )
        query = (
            select(deliveries.c.seq, deliveries.c.attempts, events.c.body)
            .join(events, events.c.seq == deliveries.c.seq)
            .where(pending, deliveries.c.next_attempt_at <= now)
            .order_by(deliveries.c.next_attempt_at, deliveries.c.seq)
            .limit(limit)
        )
        with self._begin() as conn:
            rows = conn.execute(query).all()
            taken = [row.seq for row in rows]
            later = select(func.min(deliveries.c.next_attempt_at)).where(
                pending, deliveries.c.seq.not_in(taken)
            )
            next_at = conn.execute(later).scalar_one_or_none()
        found = [PendingDelivery(r.seq, from_json(r.body), r.attempts) for r in rows]
        return Due(found, next_at)

    def _settle(self, settlement: Settlement, now: float) -> None:
        statement = (
            update(deliveries)
            .where(
                deliveries.c.subscription == settlement.subscription,
                deliveries.c.seq == settlement.seq,
            )
            .values(
                status=settlement.status.value,
                attempts=settlement.attempts,
                next_attempt_at=settlement.next_attempt_at,
                last_error=settlement.error,
                updated_at=now,
            )
        )
        with self._begin() as conn:
            conn.execute(statement)

    def _dead(self, subscription: str | None, limit: int) -> list[DeadLetter]:
        query = (
            select(deliveries, events.c.body)
            .join(events, events.c.seq == deliveries.c.seq)
            .where(deliveries.c.status == Status.DEAD.value)
            .order_by(deliveries.c.seq, deliveries.c.subscription)
            .limit(limit)
        )
        if subscription is not None:
            query = query.where(deliveries.c.subscription == subscription)
        with self._begin() as conn:
            rows = conn.execute(query).all()
        return [
            DeadLetter(r.subscription, from_json(r.body), r.attempts, r.last_error) for r in rows
        ]

    def _forget(self, subscription: str) -> None:
        with self._begin() as conn:
            conn.execute(delete(deliveries).where(deliveries.c.subscription == subscription))

    def _purge(self, before: float) -> int:
        waiting = select(deliveries.c.seq).where(deliveries.c.status.in_(_WAITING))
        old = (events.c.published_at < before) & events.c.seq.not_in(waiting)
        with self._begin() as conn:
            conn.execute(
                delete(deliveries).where(deliveries.c.seq.in_(select(events.c.seq).where(old)))
            )
            return _rowcount(conn, delete(events).where(old))


def _new_delivery(subscription: str, seq: int, now: float) -> dict[str, Any]:
    return {
        "subscription": subscription,
        "seq": seq,
        "attempts": 0,
        "next_attempt_at": now,
        "status": Status.PENDING.value,
        "last_error": "",
        "updated_at": now,
    }


def _rowcount(conn: Connection, statement: Any) -> int:
    return int(conn.execute(statement).rowcount)
