"""What only the SQL adapter has: migrations, the SQLite set-up, concurrent claimers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import flowapp.store.platform.sql.tables  # noqa: F401 (registers the platform tables)
from flowapp.store import StoreError, StoreUnavailable
from flowapp.store.port import LeaseClaim
from flowapp.store.sql import SqlStore
from flowapp.store.sql.migrate import VERSION_TABLE, current_revision, head_revision
from flowapp.store.sql.tables import metadata
from tests.concurrency import run_together
from tests.postgres import new_database

from .store_factories import T0, checkpoint, create, execution, workflow

SQL_ADAPTERS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def test_the_migrations_build_exactly_the_tables_module(sql_store: SqlStore) -> None:
    with sql_store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        assert compare_metadata(context, metadata) == []
        assert current_revision(conn) == head_revision() == "0009"


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    store = SqlStore(str(tmp_path / "deep" / "er" / "flowapp.db"))  # parents are created
    store.migrate()
    with store.engine.connect() as conn:
        pragmas = [conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in PRAGMAS]
    store.close()
    assert pragmas == ["wal", 1, 1, 10_000]


PRAGMAS = ["journal_mode", "synchronous", "foreign_keys", "busy_timeout"]


def test_an_unmigrated_database_is_an_error_not_an_outage(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(StoreError) as caught:
        store.get_execution("e1")
    assert not isinstance(caught.value, StoreUnavailable)
    store.close()


def test_concurrent_claimers_never_share_an_execution(sql_store: SqlStore) -> None:
    # Eight claimers that could take 160 between them race for 150 executions.
    ids = [f"e{n:03d}" for n in range(150)]
    for execution_id in ids:
        create(sql_store, execution_id)
    url = sql_store.engine.url.render_as_string(hide_password=False)
    stores = [SqlStore(url) for _ in range(8)]

    def claim(index: int) -> list[str]:
        return stores[index].claim_executions(LeaseClaim(f"p{index}", 60, 20), now=T0)

    claimed = run_together(len(stores), claim)
    for store in stores:
        store.close()
    taken = [execution_id for batch in claimed for execution_id in batch]
    assert sorted(taken) == ids  # every one taken, none twice
    owners = {sql_store.get_execution(i).owner for i in ids}  # type: ignore[union-attr]
    assert len(owners) > 1


def test_concurrent_creators_of_one_dedupe_key_agree_on_one_execution(sql_store: SqlStore) -> None:
    # Engine replicas handed the same message at once (a redelivery, two consumers): each
    # batch-creates an execution with the message's dedupe key; one wins, the others are
    # told its id, and none fails.
    sql_store.save_workflow(workflow())
    url = sql_store.engine.url.render_as_string(hide_password=False)
    stores = [SqlStore(url) for _ in range(8)]

    def create_one(index: int) -> list[str | None]:
        pair = (execution(f"e{index}", dedupe_key="message-1"), checkpoint(f"e{index}"))
        return stores[index].create_executions([pair])

    answers = run_together(len(stores), create_one)
    for store in stores:
        store.close()
    winners = [f"e{i}" for i, answer in enumerate(answers) if answer == [None]]
    assert len(winners) == 1
    assert sorted(answer[0] or winners[0] for answer in answers) == winners * 8


def test_concurrent_retries_of_one_faulted_execution_lease_it_once(sql_store: SqlStore) -> None:
    # Eight engine processes asked at once to retry the same faulted execution: each
    # read it faulted and owned by p0, and exactly one may take it over.
    create(sql_store, "e1", status="faulted", owner="p0", lease_until=T0)
    url = sql_store.engine.url.render_as_string(hide_password=False)
    stores = [SqlStore(url) for _ in range(8)]

    def retry(index: int) -> bool:
        return stores[index].lease_for_retry(
            "e1", seen_owner="p0", owner=f"p{index + 1}", lease_until=T0 + 60
        )

    taken = run_together(len(stores), retry)
    for store in stores:
        store.close()
    assert taken.count(True) == 1
    held = sql_store.get_execution("e1")
    assert held is not None and held.owner == f"p{taken.index(True) + 1}"


@pytest.fixture(params=SQL_ADAPTERS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database with no schema yet."""
    with new_database(request.param, tmp_path, "flowapp_store_test") as url:
        yield url


def test_concurrent_migrations_are_safe(empty_database: str) -> None:
    stores = [SqlStore(empty_database) for _ in range(4)]
    run_together(len(stores), lambda index: stores[index].migrate())
    create(stores[0], "e1")
    assert stores[1].get_execution("e1") is not None
    with stores[0].engine.connect() as conn:
        assert current_revision(conn) == head_revision()
        tables = set(sa.inspect(conn).get_table_names())
    for store in stores:
        store.close()
    assert tables == {*metadata.tables, VERSION_TABLE}
