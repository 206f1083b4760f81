"""``AppSecrets``: each app's secrets, merged from their three sources, kept for the runtime.

    environment (FLOWAPP_SECRETS_<APP>)  >  file (--secrets-file)  >  store (flowapp secret set)

A name given by several sources takes the value of the leftmost; ``list`` says which
source each name's value comes from. The store's rows are sealed (``box.py``): they are
opened here, in memory, and nowhere else. ``for_app`` answers the runtime without I/O
(it runs at every decision); the store is read again after every change made here and
every ``interval`` seconds, so that a change made through another process sharing the
database arrives within that time. A row no key of the ring opens is left out (reading it
is then the spec's authorization error) and logged once.

Nothing here returns a value to the API: ``list`` gives names and where they come from.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from flowapp.runtime.sealing import KnownSecrets
from flowapp.runtime.secrets.box import KeyRing, SecretsKeyError
from flowapp.runtime.secrets.supplied import Supplied
from flowapp.store.platform import InvalidValue, SecretRecord
from flowapp.store.platform.port import SecretStore

log = logging.getLogger(__name__)

MAX_SECRET_BYTES = 65_536  # of a value's JSON
ENVIRONMENT_PREFIX = "FLOWAPP_SECRET_"  # how an app's processes see its secrets
SOURCES = ("environment", "file", "store")  # the first that has a name wins
EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class SecretInfo:
    """A secret's name and where its value comes from; never the value."""

    name: str
    source: str  # environment | file | store
    updated_at: float | None = None  # when set in the store
    also_in: tuple[str, ...] = ()  # other sources that name it, overridden by ``source``


class AppSecrets:
    def __init__(
        self,
        store: SecretStore,
        ring: KeyRing,
        *,
        file: Supplied | None = None,
        environment: Supplied | None = None,
        clock: Callable[[], float] = time.time,
        interval: float = 2.0,
    ) -> None:
        self.store = store
        self.ring = ring
        self.clock = clock
        self.interval = interval
        self._supplied = {"environment": environment or {}, "file": file or {}}
        self._opened: dict[tuple[str, str], tuple[str, bytes, Any]] = {}
        self._merged = self._merge({})
        self._everywhere = _known_of(self._merged)
        self._unopenable: set[tuple[str, str, str, bytes]] = set()
        self._refresher: asyncio.Task[None] | None = None

    # --- what the runtime sees ----------------------------------------------------------

    def for_app(self, app: str | None) -> Mapping[str, Any]:
        """The app's secrets by name (read-only); none for a workflow of no app."""
        return EMPTY if app is None else self._merged.get(app, EMPTY)

    def environment_for(self, app: str) -> dict[str, str]:
        """The app's secrets as its processes see them (functions, ``run: shell``):
        ``FLOWAPP_SECRET_<name>``, a string as it is, any other value as JSON."""
        return {
            f"{ENVIRONMENT_PREFIX}{name}": value if isinstance(value, str) else json.dumps(value)
            for name, value in self.for_app(app).items()
        }

    def known_everywhere(self) -> KnownSecrets:
        """Every app's secret values, to mask in logs."""
        return self._everywhere

    def _merge(self, stored: dict[str, dict[str, Any]]) -> dict[str, Mapping[str, Any]]:
        """Every app's merged secrets, built whole and swapped in at once (``for_app`` runs
        on the event loop while ``load`` runs in a worker thread)."""
        apps = set(stored).union(*self._supplied.values())
        previous: dict[str, Mapping[str, Any]] = getattr(self, "_merged", {})
        merged: dict[str, Mapping[str, Any]] = {}
        for app in apps:
            values = {**stored.get(app, {})}
            values.update(self._supplied["file"].get(app, {}))
            values.update(self._supplied["environment"].get(app, {}))
            kept = previous.get(app)
            # The same object while nothing changed: the runtime caches what it derives.
            merged[app] = kept if kept == values else MappingProxyType(values)
        return merged

    # --- keeping up with the store -------------------------------------------------------

    async def start(self) -> None:
        """Re-seal rows sealed under an older key, load, then reload every ``interval``."""
        await asyncio.to_thread(self.reseal_old_rows)
        await asyncio.to_thread(self.load)
        self._refresher = asyncio.get_running_loop().create_task(self._refresh_forever())

    async def stop(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await asyncio.to_thread(self.load)
            except Exception as error:  # a database blip: keep the values we have
                log.warning("cannot reload apps' secrets: %s", error)

    def load(self) -> None:
        """Read the store; open only the rows that changed since the last load."""
        opened: dict[tuple[str, str], tuple[str, bytes, Any]] = {}
        for record in self.store.list_secrets():
            key = (record.app, record.name)
            kept = self._opened.get(key)
            if kept is not None and kept[:2] == (record.key_id, record.sealed):
                opened[key] = kept
                continue
            value = self._open(record)
            if value is not _UNOPENED:
                opened[key] = (record.key_id, record.sealed, value)
        stored: dict[str, dict[str, Any]] = {}
        for (app, name), (_, _, value) in opened.items():
            stored.setdefault(app, {})[name] = value
        self._opened = opened
        merged = self._merge(stored)
        if merged != self._merged:
            self._everywhere = _known_of(merged)
        self._merged = merged

    def _open(self, record: SecretRecord) -> Any:
        try:
            return self.ring.open(record.app, record.name, record.key_id, record.sealed)
        except SecretsKeyError as error:
            seen = (record.app, record.name, record.key_id, record.sealed)
            if seen not in self._unopenable:
                self._unopenable.add(seen)
                log.error("%s", error)
            return _UNOPENED

    def reseal_old_rows(self) -> int:
        """Seal again, under the ring's first key, every row sealed under another one."""
        count = 0
        for record in self.store.list_secrets():
            if record.key_id == self.ring.current_id:
                continue
            value = self._open(record)
            if value is _UNOPENED:
                continue
            key_id, sealed = self.ring.seal(record.app, record.name, value)
            self.store.put_secret(
                record.app, record.name, key_id=key_id, sealed=sealed, now=self.clock()
            )
            count += 1
        if count:
            log.warning(
                "re-sealed %d secrets under the current key %s", count, self.ring.current_id
            )
        return count

    # --- changes through the API (blocking: call them in a worker thread) ---------------

    def set(self, app: str, name: str, value: Any) -> SecretInfo:
        """Seal and store; ``InvalidValue`` for a value that is too large or not JSON."""
        try:
            size = len(json.dumps(value, allow_nan=False, separators=(",", ":")).encode())
        except (TypeError, ValueError):
            raise InvalidValue("a secret's value must be a JSON value") from None
        if size > MAX_SECRET_BYTES:
            raise InvalidValue(f"a secret's value holds at most {MAX_SECRET_BYTES} bytes of JSON")
        key_id, sealed = self.ring.seal(app, name, value)
        record = self.store.put_secret(app, name, key_id=key_id, sealed=sealed, now=self.clock())
        self.load()
        return self._info(app, name, record)

    def delete(self, app: str, name: str) -> None:
        """Raises the store's ``NotFound`` when the store has no such secret (a name given
        by the file or the environment is changed there, not here)."""
        self.store.delete_secret(app, name)
        self.load()

    def list(self, app: str) -> list[SecretInfo]:
        stored = {record.name: record for record in self.store.list_secrets(app)}
        names = set(stored).union(*(given.get(app, {}) for given in self._supplied.values()))
        return [self._info(app, name, stored.get(name)) for name in sorted(names)]

    def _info(self, app: str, name: str, record: SecretRecord | None) -> SecretInfo:
        sources = [s for s in SOURCES[:2] if name in self._supplied[s].get(app, {})]
        if record is not None:
            sources.append("store")
        updated_at = record.updated_at if record is not None else None
        return SecretInfo(name, sources[0], updated_at, tuple(sources[1:]))


_UNOPENED = object()


def _known_of(merged: Mapping[str, Mapping[str, Any]]) -> KnownSecrets:
    return KnownSecrets({app: dict(values) for app, values in merged.items()})
