"""Conditions and observations on SQL: what the syncer reports about each app.

``set_conditions`` reads the app's conditions under the app row's lock, lets
``rules.next_condition`` decide each one's transition time (it moves only when the
status changes), and upserts them; conditions of types not reported are left alone.
An observation is one row per app, replaced as a whole.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from flowapp.store.platform import rules
from flowapp.store.platform.records import AppObservation, Condition, ConditionRecord
from flowapp.store.platform.sql.common import as_row, need_app, upsert
from flowapp.store.platform.sql.tables import app_conditions, app_observations


def set_conditions(
    conn: Connection, app: str, conditions: Sequence[Condition], *, now: float
) -> list[ConditionRecord]:
    need_app(conn, app, lock=True)  # one syncer's view at a time per app
    stored = {record.type: record for record in get_conditions(conn, app)}
    for condition in conditions:
        record = rules.next_condition(app, stored.get(condition.type), condition, now)
        upsert(conn, app_conditions, as_row(record), keys=("app", "type"))
        stored[record.type] = record
    return [stored[key] for key in sorted(stored)]


def get_conditions(conn: Connection, app: str) -> list[ConditionRecord]:
    c = app_conditions.c
    query = sa.select(app_conditions).where(c.app == app).order_by(c.type)
    return [ConditionRecord(**row._mapping) for row in conn.execute(query)]


def set_observation(conn: Connection, observation: AppObservation) -> None:
    need_app(conn, observation.app)
    upsert(conn, app_observations, as_row(observation), keys=("app",))


def get_observation(conn: Connection, app: str) -> AppObservation | None:
    query = sa.select(app_observations).where(app_observations.c.app == app)
    row = conn.execute(query).first()
    return None if row is None else AppObservation(**row._mapping)
