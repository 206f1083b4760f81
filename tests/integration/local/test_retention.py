"""The retention sweeper of ``flowapp up``, on a real SQLite store, and the duration rules."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from flowapp.local.retention import RetentionSweeper
from flowapp.store import ExecutionFilter, Purged
from flowapp.store.retention import DAY, RetentionPolicy, parse_retention
from flowapp.store.sql import SqlStore
from tests.integration.store.store_factories import T0, checkpoint, create, task_run

NOW = T0 + 100 * DAY


@pytest.fixture
def store(tmp_path: Path) -> SqlStore:
    opened = SqlStore(f"sqlite:///{tmp_path / 'store.db'}")
    opened.migrate()
    return opened


def finished(store: SqlStore, execution_id: str, *, app: str, days_ago: float, runs: int) -> None:
    create(store, execution_id, app=app)
    done = [task_run(execution_id, n, status="completed") for n in range(1, runs + 1)]
    ended = NOW - days_ago * DAY
    store.commit([checkpoint(execution_id, status="completed", ended_at=ended, task_runs=done)])


def remaining(store: SqlStore) -> set[str]:
    return {r.id for r in store.list_executions(ExecutionFilter(), limit=100).items}


async def test_a_round_applies_each_apps_retention_and_the_default(store: SqlStore) -> None:
    finished(store, "shop-40d", app="shop", days_ago=40, runs=30)
    finished(store, "shop-20d", app="shop", days_ago=20, runs=3)
    finished(store, "bank-40d", app="bank", days_ago=40, runs=3)
    finished(store, "bank-80d", app="bank", days_ago=80, runs=3)
    create(store, "running", app="shop")
    policy = RetentionPolicy(default=30 * DAY, per_app={"bank": 60 * DAY})
    sweeper = RetentionSweeper(store, lambda: policy, batch=7, clock=lambda: NOW)

    assert await sweeper.sweep() == Purged(executions=2, task_runs=33)
    assert remaining(store) == {"shop-20d", "bank-40d", "running"}
    assert await sweeper.sweep() == Purged()
    store.close()


async def test_stopping_takes_effect_between_batches(store: SqlStore) -> None:
    finished(store, "big", app="shop", days_ago=40, runs=200)
    sweeper = RetentionSweeper(
        store, lambda: RetentionPolicy(default=DAY), batch=1, clock=lambda: NOW
    )
    await sweeper.start()
    while sweeper.purged.task_runs == 0:
        await asyncio.sleep(0.001)
    await asyncio.wait_for(sweeper.stop(), timeout=5)
    # Stopped long before its 200 batches: the execution is still there, with fewer runs.
    assert 0 < len(store.task_runs("big")) < 200
    assert remaining(store) == {"big"}
    store.close()


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30d", 30 * DAY),
        ("12h", 43_200),
        ("90m", 5400),
        ("45s", 45),
        ("2w", 14 * DAY),
        ("10", 10),
        ("1.5h", 5400),
        ("P30D", 30 * DAY),
        ("PT12H", 43_200),
        ("0s", 0),
    ],
)
def test_retentions_are_read_in_short_or_iso_form(text: str, seconds: float) -> None:
    assert parse_retention(text) == seconds


@pytest.mark.parametrize("text", ["", "thirty days", "-1d", "3x", "P1M", "nan"])
def test_a_bad_retention_says_what_is_expected(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration such as 30d, 12h"):
        parse_retention(text)
