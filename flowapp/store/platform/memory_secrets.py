"""Apps' sealed secrets in ``MemoryPlatformStore``: a mixin over its ``MemoryTables``
(and lock), kept apart only to keep each module small; ``memory.py`` is the store."""

from __future__ import annotations

import threading

from flowapp.store.platform import rules
from flowapp.store.platform.memory_tables import MemoryTables
from flowapp.store.platform.records import NotFound, SecretRecord


class MemorySecrets:
    _tables: MemoryTables
    _lock: threading.RLock

    def put_secret(
        self, app: str, name: str, *, key_id: str, sealed: bytes, now: float
    ) -> SecretRecord:
        rules.check_secret_name(name)
        rules.check_sealed(key_id, sealed)
        with self._lock:
            self._tables.need_app(app)
            kept = self._tables.secrets.get((app, name))
            created_at = now if kept is None else kept.created_at
            record = SecretRecord(app, name, key_id, bytes(sealed), created_at, now)
            self._tables.secrets[(app, name)] = record
            return record

    def delete_secret(self, app: str, name: str) -> None:
        with self._lock:
            if self._tables.secrets.pop((app, name), None) is None:
                raise NotFound("secret", f"{app}/{name}")

    def list_secrets(self, app: str | None = None) -> list[SecretRecord]:
        with self._lock:
            found = [s for s in self._tables.secrets.values() if app is None or s.app == app]
        return sorted(found, key=lambda record: (record.app, record.name))
