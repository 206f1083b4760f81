"""Apps' sealed secrets of ``SqlPlatformStore``: a part of the store class kept apart
only to keep modules small. The store never sees a plain value: the caller seals it
(``flowapp.runtime.secrets``) and names the key it used."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from flowapp.store.platform import rules
from flowapp.store.platform.records import NotFound, SecretRecord
from flowapp.store.platform.sql.common import need_app
from flowapp.store.platform.sql.tables import app_secrets
from flowapp.store.sql.base import SqlBase
from flowapp.store.sql.errors import translated

c = app_secrets.c


class SqlSecrets(SqlBase):
    @translated
    def put_secret(
        self, app: str, name: str, *, key_id: str, sealed: bytes, now: float
    ) -> SecretRecord:
        rules.check_secret_name(name)
        rules.check_sealed(key_id, sealed)
        with self._write() as conn:
            need_app(conn, app, lock=True)  # serialises writers of this app's secrets
            where = (c.app == app) & (c.name == name)
            kept = conn.execute(sa.select(c.created_at).where(where)).scalar()
            values = {"key_id": key_id, "sealed": sealed, "updated_at": now}
            if kept is None:
                row = {"app": app, "name": name, "created_at": now, **values}
                conn.execute(sa.insert(app_secrets).values(row))
            else:
                conn.execute(sa.update(app_secrets).where(where).values(values))
        return SecretRecord(app, name, key_id, sealed, now if kept is None else kept, now)

    @translated
    def delete_secret(self, app: str, name: str) -> None:
        with self._write() as conn:
            deleted = conn.execute(
                sa.delete(app_secrets).where((c.app == app) & (c.name == name))
            ).rowcount
        if not deleted:
            raise NotFound("secret", f"{app}/{name}")

    @translated
    def list_secrets(self, app: str | None = None) -> list[SecretRecord]:
        query = sa.select(app_secrets).order_by(c.app, c.name)
        if app is not None:
            query = query.where(c.app == app)
        with self._read() as conn:
            return [_secret(row._mapping) for row in conn.execute(query)]


def _secret(row: Any) -> SecretRecord:
    fields = dict(row)
    fields["sealed"] = bytes(fields["sealed"])  # memoryview on PostgreSQL
    return SecretRecord(**fields)
