"""What the platform store's query modules share: records to rows, the dialect's upsert,
and the lookups of the parents that a change hangs off (a live app, an alert rule).

``need_app(..., lock=True)`` reads the app row ``FOR UPDATE`` on PostgreSQL: every
change that must see the app's latest children (the next revision number, the current
conditions) takes that lock first, so concurrent changes to one app queue up behind it
instead of racing. SQLite renders no lock clause; its single writer (``BEGIN
IMMEDIATE``) serialises them anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from flowapp.store.platform.records import AlertRuleRecord, AppRecord, NotFound
from flowapp.store.platform.sql.tables import alert_rules, apps


def as_row(record: Any) -> dict[str, Any]:
    """A record's fields by name (not ``asdict``, which deep-copies JSON values that the
    driver serialises anyway)."""
    return {field.name: getattr(record, field.name) for field in fields(record)}


def upsert(conn: Connection, table: sa.Table, row: dict[str, Any], keys: Iterable[str]) -> None:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE`` the rest of the row (both dialects
    spell it the same, but SQLAlchemy builds it per dialect)."""
    keys = list(keys)
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = insert(table).values(row)
    updates = {name: statement.excluded[name] for name in row if name not in keys}
    conn.execute(statement.on_conflict_do_update(index_elements=keys, set_=updates))


def app_row(app: AppRecord) -> dict[str, Any]:
    """``allowed_runs`` is a short list of fixed words: stored as text, comma-separated."""
    return {**as_row(app), "allowed_runs": ",".join(app.allowed_runs)}


def app_record(row: Any) -> AppRecord:
    values = dict(row._mapping)
    values["allowed_runs"] = tuple(k for k in (values.get("allowed_runs") or "").split(",") if k)
    return AppRecord(**values)


def need_app(conn: Connection, name: str, *, lock: bool = False) -> AppRecord:
    query = sa.select(apps).where(apps.c.name == name)
    row = conn.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise NotFound("app", name)
    return app_record(row)


def need_rule(conn: Connection, rule_id: int) -> AlertRuleRecord:
    row = conn.execute(sa.select(alert_rules).where(alert_rules.c.id == rule_id)).first()
    if row is None:
        raise NotFound("alert rule", rule_id)
    return AlertRuleRecord(**row._mapping)
