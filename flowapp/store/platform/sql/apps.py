"""Apps and their revisions on SQL, inside the caller's transaction.

Deleting an app deletes its row; foreign keys (``ON DELETE CASCADE``) take its
revisions, traffic, deploys, conditions, observation and alert rules with it, so an app
created again with the name starts from revision 1.

Revision numbers are allocated under the app row's lock (``common.need_app``): read
the latest revision, return it if the digest is unchanged, else insert number + 1. The
primary key (app, number) would reject a duplicate number in any case.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from flowapp.store.platform import rules
from flowapp.store.platform.records import AppExists, AppRecord, NotFound, RevisionRecord
from flowapp.store.platform.sql.common import app_record, app_row, as_row, need_app
from flowapp.store.platform.sql.tables import (
    alert_rules,
    app_conditions,
    app_deploys,
    app_observations,
    app_revisions,
    app_secrets,
    app_traffic,
    apps,
)


def create_app(conn: Connection, app: AppRecord) -> None:
    query = sa.select(apps.c.name).where(apps.c.name == app.name).with_for_update()
    if conn.execute(query).first() is not None:
        raise AppExists(app.name)
    conn.execute(sa.insert(apps).values(app_row(app)))


def get_app(conn: Connection, name: str) -> AppRecord | None:
    row = conn.execute(sa.select(apps).where(apps.c.name == name)).first()
    return None if row is None else app_record(row)


def list_apps(conn: Connection) -> list[AppRecord]:
    query = sa.select(apps).order_by(apps.c.name)
    return [app_record(row) for row in conn.execute(query)]


def update_app(conn: Connection, name: str, *, resource: dict[str, Any], now: float) -> AppRecord:
    app = replace(need_app(conn, name, lock=True), resource=resource, updated_at=now)
    conn.execute(sa.update(apps).where(apps.c.name == name).values(app_row(app)))
    return app


def set_allowed_runs(
    conn: Connection, name: str, kinds: tuple[str, ...], *, now: float
) -> AppRecord:
    app = replace(need_app(conn, name, lock=True), allowed_runs=kinds, updated_at=now)
    conn.execute(sa.update(apps).where(apps.c.name == name).values(app_row(app)))
    return app


def delete_app(conn: Connection, name: str) -> None:
    """The app and its children, deleted explicitly (traffic and deploys before the
    revisions they name); alert rules take their states and notifications along by
    cascade."""
    need_app(conn, name, lock=True)
    children = (app_traffic, app_deploys, app_conditions, app_observations, app_secrets)
    for table in (*children, alert_rules):
        conn.execute(sa.delete(table).where(table.c.app == name))
    conn.execute(sa.delete(app_revisions).where(app_revisions.c.app == name))
    conn.execute(sa.delete(apps).where(apps.c.name == name))


def create_revision(
    conn: Connection, app: str, *, digest: str, resource: dict[str, Any], now: float
) -> RevisionRecord:
    need_app(conn, app, lock=True)  # serialises numbering for this app
    c = app_revisions.c
    query = sa.select(app_revisions).where(c.app == app).order_by(c.number.desc()).limit(1)
    latest = conn.execute(query).first()
    if latest is not None and latest.digest == digest:
        return RevisionRecord(**latest._mapping)
    number = 1 if latest is None else latest.number + 1
    revision_id = rules.revision_id(app, number)
    revision = RevisionRecord(app, number, revision_id, digest, resource, now, "building")
    conn.execute(sa.insert(app_revisions).values(as_row(revision)))
    return revision


def set_revision_status(
    conn: Connection, revision_id: str, *, status: str, message: str
) -> RevisionRecord:
    statement = (
        sa.update(app_revisions)
        .where(app_revisions.c.id == revision_id)
        .values(status=status, message=message)
        .returning(*app_revisions.c)
    )
    row = conn.execute(statement).first()
    if row is None:
        raise NotFound("revision", revision_id)
    return RevisionRecord(**row._mapping)


def get_revision(conn: Connection, revision_id: str) -> RevisionRecord | None:
    row = conn.execute(sa.select(app_revisions).where(app_revisions.c.id == revision_id)).first()
    return None if row is None else RevisionRecord(**row._mapping)


def list_revisions(conn: Connection, app: str, *, limit: int | None) -> list[RevisionRecord]:
    c = app_revisions.c
    query = sa.select(app_revisions).where(c.app == app).order_by(c.number.desc()).limit(limit)
    return [RevisionRecord(**row._mapping) for row in conn.execute(query)]
