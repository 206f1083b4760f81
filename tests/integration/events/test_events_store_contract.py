"""The ``BrokerStore`` contract: the same bodies against the in-memory fake and SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from flowapp.events.errors import StoreError
from flowapp.events.memory import MemoryStore
from flowapp.events.sqlite import SqliteStore
from flowapp.events.store import BrokerStore, Settlement, Status

Event = dict[str, Any]


def event(id: str, **extra: Any) -> Event:
    return {"specversion": "1.0", "id": id, "source": "/s", "type": "t", **extra}


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BrokerStore]:
    subject: BrokerStore = (
        MemoryStore() if request.param == "memory" else SqliteStore(str(tmp_path / "bus.db"))
    )
    await subject.open()
    yield subject
    await subject.close()


async def due_ids(store: BrokerStore, subscription: str, now: float) -> list[str]:
    due = await store.due(subscription, now=now, limit=100)
    return [d.event["id"] for d in due.deliveries]


async def test_append_drops_duplicates(store: BrokerStore) -> None:
    assert await store.append(event("1", data={"v": 1}), ["a", "b"], now=10)
    assert not await store.append(event("1", data={"v": 2}), ["a", "c"], now=11)
    assert not await store.append(event("1"), [], now=12)
    assert await store.append({**event("1"), "source": "/other"}, ["a"], now=13)
    (first, _) = (await store.due("a", now=20, limit=10)).deliveries
    assert first.event == event("1", data={"v": 1}) and first.attempts == 0
    assert await due_ids(store, "c", 20) == []


async def test_events_round_trip_exactly(store: BrokerStore) -> None:
    stored = event("é/1", data={"text": "naïve ☃", "n": [1, 2.5, None]}, region="eu")
    binary = event("2", data_base64="AAE=", datacontenttype="application/octet-stream")
    await store.append(stored, ["a"], now=1)
    await store.append(binary, ["a"], now=2)
    due = await store.due("a", now=5, limit=10)
    assert [d.event for d in due.deliveries] == [stored, binary]


async def test_due_order_limit_and_next(store: BrokerStore) -> None:
    for n in range(5):
        await store.append(event(str(n)), ["a"], now=10 + n)
    assert await due_ids(store, "a", 12) == ["0", "1", "2"]
    due = await store.due("a", now=12, limit=2)
    assert [d.event["id"] for d in due.deliveries] == ["0", "1"]
    assert due.next_at == 12  # "2" is due but beyond the limit
    due = await store.due("a", now=9, limit=10)
    assert due.deliveries == [] and due.next_at == 10
    assert (await store.due("other", now=99, limit=10)).next_at is None


async def test_settle_retry_later(store: BrokerStore) -> None:
    await store.append(event("1"), ["a"], now=10)
    (delivery,) = (await store.due("a", now=10, limit=1)).deliveries
    await store.settle(
        Settlement("a", delivery.seq, Status.PENDING, 1, next_attempt_at=15, error="503"), now=10
    )
    due = await store.due("a", now=14, limit=10)
    assert due.deliveries == [] and due.next_at == 15
    (again,) = (await store.due("a", now=15, limit=10)).deliveries
    assert again.attempts == 1


async def test_settled_deliveries_are_no_longer_due(store: BrokerStore) -> None:
    for n, name in enumerate(["ok", "sunk", "dead"]):
        await store.append(event(name), ["a"], now=n)
    for delivery, status in zip(
        (await store.due("a", now=10, limit=10)).deliveries,
        [Status.DELIVERED, Status.DEAD_LETTERED, Status.DEAD],
        strict=True,
    ):
        await store.settle(Settlement("a", delivery.seq, status, 3, error=f"{status}"), now=10)
    assert (await store.due("a", now=99, limit=10)).deliveries == []
    (dead,) = await store.dead()
    assert (dead.subscription, dead.event["id"], dead.attempts, dead.error) == (
        "a",
        "dead",
        3,
        "dead",
    )


async def test_dead_by_subscription(store: BrokerStore) -> None:
    await store.append(event("1"), ["a", "b"], now=1)
    for name in ("a", "b"):
        (delivery,) = (await store.due(name, now=1, limit=1)).deliveries
        await store.settle(Settlement(name, delivery.seq, Status.DEAD, 1, error="x"), now=2)
    assert [d.subscription for d in await store.dead()] == ["a", "b"]
    assert [d.subscription for d in await store.dead("b")] == ["b"]
    assert await store.dead("c") == []


async def test_forget_drops_one_subscription(store: BrokerStore) -> None:
    await store.append(event("1"), ["a", "b"], now=1)
    await store.forget("a")
    assert await due_ids(store, "a", 5) == []
    assert await due_ids(store, "b", 5) == ["1"]
    seq = (await store.due("b", now=5, limit=1)).deliveries[0].seq
    await store.settle(Settlement("a", seq, Status.DELIVERED, 1), now=6)  # a late attempt: ignored
    assert await due_ids(store, "a", 5) == []


async def test_purge_keeps_what_is_waited_on(store: BrokerStore) -> None:
    await store.append(event("delivered"), ["a"], now=1)
    await store.append(event("pending"), ["a"], now=1)
    await store.append(event("dead"), ["a"], now=1)
    await store.append(event("unmatched"), [], now=1)
    await store.append(event("young"), [], now=50)
    delivered, _, dead = (await store.due("a", now=1, limit=10)).deliveries
    await store.settle(Settlement("a", delivered.seq, Status.DELIVERED, 1), now=2)
    await store.settle(Settlement("a", dead.seq, Status.DEAD, 1, error="x"), now=2)
    assert await store.purge(before=10) == 2
    assert await due_ids(store, "a", 99) == ["pending"]
    assert len(await store.dead()) == 1
    assert await store.append(event("delivered"), [], now=60)  # forgotten: accepted again
    assert not await store.append(event("young"), [], now=60)  # still remembered


async def test_sqlite_survives_reopening(tmp_path: Path) -> None:
    path = str(tmp_path / "bus.db")
    first = SqliteStore(path)
    await first.open()
    await first.append(event("1"), ["a"], now=1)
    await first.close()
    second = SqliteStore(path, synchronous="normal")
    await second.open()
    assert await due_ids(second, "a", 5) == ["1"]
    assert not await second.append(event("1"), ["a"], now=2)
    await second.close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_sqlite_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA user_version = 99")
    store = SqliteStore(str(path))
    with pytest.raises(StoreError, match="schema 99"):
        await store.open()
    await store.close()


async def test_sqlite_driver_errors_become_store_errors(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "missing-dir" / "bus.db"))
    with pytest.raises(StoreError, match="unable to open database file") as caught:
        await store.open()
    assert caught.value.retryable
    assert caught.value.__cause__ is not None
    await store.close()
    with pytest.raises(StoreError, match="not open"):
        await store.append(event("1"), [], now=1)
