"""Traffic splits and deploys on SQL, inside the caller's transaction.

``fail_interrupted`` runs when an engine process starts: the deploys it left running
(it stopped or crashed during them) fail, and their revisions stop being ``building``.

``set_traffic`` replaces an app's splits as a whole (delete, then insert with their
position) under the app row's lock, after checking that every revision belongs to the
app; foreign keys back that check up. A deploy's log grows by appending, read and
written under the deploy row's lock, with the tail kept by ``rules.append_log``.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from flowapp.store.platform import rules
from flowapp.store.platform.records import (
    DeployRecord,
    DeployStep,
    InvalidTraffic,
    NotFound,
    TrafficSplit,
)
from flowapp.store.platform.sql.common import need_app
from flowapp.store.platform.sql.tables import app_deploys, app_revisions, app_traffic


def set_traffic(conn: Connection, app: str, splits: list[TrafficSplit]) -> None:
    need_app(conn, app, lock=True)
    wanted = {split.revision_id for split in splits}
    query = sa.select(app_revisions.c.id).where(
        app_revisions.c.app == app, app_revisions.c.id.in_(sorted(wanted))
    )
    missing = wanted - set(conn.scalars(query))
    if missing:
        raise InvalidTraffic(f"not revisions of {app}: {', '.join(sorted(missing))}")
    conn.execute(sa.delete(app_traffic).where(app_traffic.c.app == app))
    rows = [
        {"app": app, "revision_id": split.revision_id, "position": index, "percent": split.percent}
        for index, split in enumerate(splits)
    ]
    conn.execute(sa.insert(app_traffic), rows)


def get_traffic(conn: Connection, app: str) -> list[TrafficSplit]:
    c = app_traffic.c
    query = sa.select(c.revision_id, c.percent).where(c.app == app).order_by(c.position)
    return [TrafficSplit(row.revision_id, row.percent) for row in conn.execute(query)]


def create_deploy(
    conn: Connection, app: str, *, revision_id: str, now: float, owner: str | None
) -> DeployRecord:
    need_app(conn, app)
    c = app_revisions.c
    owned = sa.select(c.id).where(c.id == revision_id, c.app == app)
    if conn.scalar(owned) is None:
        raise NotFound("revision", revision_id)
    row = {
        "app": app,
        "revision_id": revision_id,
        "status": "running",
        "message": "",
        "log": "",
        "started_at": now,
        "owner": owner,
    }
    inserted = conn.execute(sa.insert(app_deploys).values(row).returning(app_deploys.c.id))
    return DeployRecord(int(inserted.scalar_one()), app, revision_id, now, "running", owner=owner)


def fail_interrupted(
    conn: Connection, owner: str, *, now: float, message: str
) -> list[DeployRecord]:
    c = app_deploys.c
    query = (
        sa.select(app_deploys)
        .where(c.status == "running", sa.or_(c.owner == owner, c.owner.is_(None)))
        .order_by(c.id)
        .with_for_update()
    )
    cut = [DeployRecord(**row._mapping) for row in conn.execute(query)]
    failed = []
    for deploy in cut:
        failed.append(update_deploy(conn, deploy.id, rules.cut_short(message), now=now))
        r = app_revisions.c
        conn.execute(
            sa.update(app_revisions)
            .where(r.id == deploy.revision_id, r.status == "building")
            .values(status="failed", message=message)
        )
    return failed


def update_deploy(
    conn: Connection, deploy_id: int, step: DeployStep, *, now: float
) -> DeployRecord:
    query = sa.select(app_deploys).where(app_deploys.c.id == deploy_id).with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise NotFound("deploy", deploy_id)
    deploy = rules.updated_deploy(DeployRecord(**row._mapping), step, now=now)
    changes = {name: getattr(deploy, name) for name in ("status", "message", "log", "ended_at")}
    conn.execute(sa.update(app_deploys).where(app_deploys.c.id == deploy_id).values(changes))
    return deploy


def get_deploy(conn: Connection, deploy_id: int) -> DeployRecord | None:
    row = conn.execute(sa.select(app_deploys).where(app_deploys.c.id == deploy_id)).first()
    return None if row is None else DeployRecord(**row._mapping)


def list_deploys(conn: Connection, app: str, *, limit: int) -> list[DeployRecord]:
    c = app_deploys.c
    query = sa.select(app_deploys).where(c.app == app).order_by(c.id.desc()).limit(limit)
    return [DeployRecord(**row._mapping) for row in conn.execute(query)]
