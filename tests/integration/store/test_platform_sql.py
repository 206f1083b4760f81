"""What only the SQL adapter of the platform store has: the shared migration history,
one database for both stores, and concurrent writers."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from flowapp.store import StoreError, StoreUnavailable, open_store
from flowapp.store.platform import AppExists, open_platform_store
from flowapp.store.platform.sql import SqlPlatformStore
from flowapp.store.platform.sql.tables import PLATFORM_TABLES
from flowapp.store.sql import SqlStore
from flowapp.store.sql.migrate import (
    VERSION_TABLE,
    alembic_config,
    current_revision,
    head_revision,
    upgrade,
)
from flowapp.store.sql.tables import ALL_TABLES, metadata
from tests.concurrency import run_together
from tests.postgres import new_database

from .conftest import SQL_ADAPTERS
from .platform_factories import (
    T0,
    make_app,
    make_revision,
    rule_spec,
    sql_platform_store_fixture,  # noqa: F401 (the fixture)
)
from .store_factories import create

PLATFORM_NAMES = {table.name for table in PLATFORM_TABLES}
EXECUTION_NAMES = {table.name for table in ALL_TABLES}


@pytest.fixture(params=SQL_ADAPTERS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database with no schema yet."""
    with new_database(request.param, tmp_path, "flowapp_store_test") as url:
        yield url


def table_names(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        return set(sa.inspect(conn).get_table_names())


def test_the_migrations_build_exactly_both_tables_modules(
    sql_platform_store: SqlPlatformStore,
) -> None:
    assert set(metadata.tables) >= PLATFORM_NAMES  # one MetaData, one history
    with sql_platform_store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        assert compare_metadata(context, metadata) == []
        assert current_revision(conn) == head_revision() == "0009"


def test_either_store_migrates_both_in_any_order_repeatedly(empty_database: str) -> None:
    platform, executions = SqlPlatformStore(empty_database), SqlStore(empty_database)
    for migrate in (platform.migrate, executions.migrate, platform.migrate, executions.migrate):
        migrate()
        assert table_names(platform.engine) == {*metadata.tables, VERSION_TABLE}
    create(executions, "e1")
    make_app(platform, "shop")
    assert executions.get_execution("e1") is not None and platform.get_app("shop") is not None
    platform.close()
    executions.close()


def test_concurrent_migrations_of_both_stores_are_safe(empty_database: str) -> None:
    stores: list[SqlPlatformStore | SqlStore] = [
        SqlPlatformStore(empty_database),
        SqlStore(empty_database),
    ] * 2
    # The first connection to a new SQLite file switches it to WAL; first connections
    # racing each other can fail that switch ("database is locked": a race in
    # flowapp/store/sql/engine.py, not in migrations), so one connects ahead.
    stores[0].engine.connect().close()
    run_together(len(stores), lambda index: stores[index].migrate())
    with stores[0].engine.connect() as conn:
        assert current_revision(conn) == "0009"
    for store in stores:
        store.close()


def test_0002_upgrades_a_0001_database_and_downgrades_cleanly(empty_database: str) -> None:
    executions = SqlStore(empty_database)
    upgrade(executions.engine, "0001")
    insert_execution_row(executions.engine, "e1")  # in SQL: today's code writes today's schema
    assert table_names(executions.engine) & PLATFORM_NAMES == set()
    platform = SqlPlatformStore(executions.engine)  # shares the engine
    platform.migrate()
    make_app(platform, "shop")
    assert executions.get_execution("e1") is not None
    with executions.engine.connect() as conn, conn.begin():
        command.downgrade(alembic_config(conn), "0001")
    assert table_names(executions.engine) == {*EXECUTION_NAMES, VERSION_TABLE}
    assert executions.get_execution("e1") is not None
    platform.close()  # leaves the shared engine alone
    assert executions.get_execution("e1") is not None
    executions.close()


def test_0003_keeps_the_tokens_of_a_0002_database_unlimited(empty_database: str) -> None:
    platform = SqlPlatformStore(empty_database)
    upgrade(platform.engine, "0002")
    with platform.engine.connect() as conn, conn.begin():
        conn.execute(
            sa.text(
                "INSERT INTO api_tokens (name, role, prefix, secret_hash, created_at) "
                "VALUES ('old', 'developer', 'fa_oldxx', 'hash-of-old', 1.0)"
            )
        )
    platform.migrate()
    (old,) = platform.list_tokens()
    assert (old.name, old.apps) == ("old", ())
    limited, _ = platform.create_token("ci", role="developer", now=2.0, apps=["shop", "cart"])
    assert platform.list_tokens()[1].apps == ("cart", "shop") == limited.apps
    with platform.engine.connect() as conn, conn.begin():
        command.downgrade(alembic_config(conn), "0002")
    with platform.engine.connect() as conn:
        columns = {column["name"] for column in sa.inspect(conn).get_columns("api_tokens")}
    assert "apps" not in columns and "name" in columns
    platform.close()


def test_0006_gives_the_apps_of_a_0005_database_no_allowed_runs(empty_database: str) -> None:
    platform = SqlPlatformStore(empty_database)
    upgrade(platform.engine, "0005")
    with platform.engine.connect() as conn, conn.begin():
        conn.execute(
            sa.text(
                "INSERT INTO apps (name, namespace, resource, created_at, updated_at) "
                "VALUES ('old', 'default', '{}', 1.0, 1.0)"
            )
        )
    platform.migrate()
    assert platform.get_app("old").allowed_runs == ()  # type: ignore[union-attr]
    assert platform.set_allowed_runs("old", ["shell"], now=2.0).allowed_runs == ("shell",)
    with platform.engine.connect() as conn, conn.begin():
        command.downgrade(alembic_config(conn), "0005")
    with platform.engine.connect() as conn:
        columns = {column["name"] for column in sa.inspect(conn).get_columns("apps")}
    assert "allowed_runs" not in columns and "resource" in columns
    platform.close()


def test_one_url_serves_both_stores(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'flowapp.db'}"
    executions, platform = open_store(url), open_platform_store(url)
    platform.migrate()
    create(executions, "e1", app="shop")
    make_app(platform, "shop")
    assert executions.get_execution("e1").app == platform.get_app("shop").name  # type: ignore[union-attr]
    executions.close()
    platform.close()


def test_an_unmigrated_database_is_an_error_not_an_outage(tmp_path: Path) -> None:
    store = SqlPlatformStore(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(StoreError) as caught:
        store.list_apps()
    assert not isinstance(caught.value, StoreUnavailable)
    store.close()


@pytest.mark.postgres
def test_an_unreachable_server_is_unavailable() -> None:
    with socket.socket() as probe:  # a local port nobody listens on: bound, then released
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = SqlPlatformStore(f"postgresql://postgres@127.0.0.1:{port}/flowapp")
    with pytest.raises(StoreUnavailable):
        store.verify_token("fa_" + "A" * 43, now=T0)
    store.close()


def insert_execution_row(engine: sa.Engine, execution_id: str) -> None:
    """An execution as any schema version holds it (the columns of 0001, without JSON)."""
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO executions (id, workflow_id, status, created_at) "
                "VALUES (:id, 'wf-1', 'running', 1.0)"
            ),
            {"id": execution_id},
        )


def clones(store: SqlPlatformStore, count: int) -> list[SqlPlatformStore]:
    """Stores with their own engines, as separate server processes would have."""
    url = store.engine.url.render_as_string(hide_password=False)
    return [SqlPlatformStore(url) for _ in range(count)]


def test_concurrent_revisions_never_share_a_number(sql_platform_store: SqlPlatformStore) -> None:
    make_app(sql_platform_store, "shop")
    stores = clones(sql_platform_store, 8)
    made = run_together(8, lambda i: make_revision(stores[i], "shop", f"sha256:{i}"))
    assert sorted(revision.number for revision in made) == list(range(1, 9))
    assert len({revision.id for revision in made}) == 8
    # The same digest deployed eight times at once is one revision.
    same = run_together(8, lambda i: make_revision(stores[i], "shop", "sha256:same"))
    assert {revision.id for revision in same} == {"shop-00009"}
    for store in stores:
        store.close()


def test_concurrent_creators_of_one_app_get_one_app(sql_platform_store: SqlPlatformStore) -> None:
    stores = clones(sql_platform_store, 6)

    def create_app(index: int) -> str:
        try:
            return make_app(stores[index], "shop").name
        except AppExists:
            return "exists"

    outcomes = run_together(6, create_app)
    assert sorted(outcomes) == ["exists"] * 5 + ["shop"]
    for store in stores:
        store.close()


def test_concurrent_deliverers_never_claim_one_notification(
    sql_platform_store: SqlPlatformStore,
) -> None:
    make_app(sql_platform_store, "shop")
    rule = sql_platform_store.create_alert_rule(rule_spec("shop"), now=T0)
    ids = [sql_platform_store.enqueue_notification(rule.id, {}, now=T0).id for _ in range(60)]
    stores = clones(sql_platform_store, 6)
    claimed = run_together(6, lambda i: stores[i].due_notifications(now=T0, limit=15))
    taken = [notification.id for batch in claimed for notification in batch]
    assert sorted(taken) == ids  # every one claimed, none twice
    for store in stores:
        store.close()


def test_0007_removes_the_tombstones_of_deleted_apps_with_their_children(
    empty_database: str,
) -> None:
    platform = SqlPlatformStore(empty_database)
    upgrade(platform.engine, "0006")
    with platform.engine.begin() as conn:
        for name, deleted_at in (("gone", "2.0"), ("kept", "NULL")):
            conn.execute(
                sa.text(
                    "INSERT INTO apps (name, namespace, resource, created_at, updated_at,"
                    f" deleted_at) VALUES ('{name}', 'default', '{{}}', 1.0, 1.0, {deleted_at})"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO app_revisions (app, number, id, digest, resource, created_at,"
                    f" status, message) VALUES ('{name}', 1, '{name}-00001', 'd', '{{}}', 1.0,"
                    " 'ready', '')"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO app_deploys (app, revision_id, status, message, log,"
                    f" started_at) VALUES ('{name}', '{name}-00001', 'succeeded', '', '', 1.0)"
                )
            )
    platform.migrate()
    assert [app.name for app in platform.list_apps()] == ["kept"]
    assert platform.get_revision("gone-00001") is None
    assert platform.list_deploys("gone") == []
    assert [r.id for r in platform.list_revisions("kept")] == ["kept-00001"]
    make_app(platform, "gone")  # the name is free, and numbering starts again
    assert make_revision(platform, "gone", "sha256:new").id == "gone-00001"
    platform.close()
