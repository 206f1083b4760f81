"""One replica at a time: leadership through PostgreSQL advisory locks.

Some triggers cannot share their messages among replicas: an MQTT session is named by
its client id, and two replicas connecting with it would take the session from each
other, over and over. Such a trigger runs under a ``Lease`` named after the app and the
trigger, on the replica that holds it:

    replica A: pg_try_advisory_lock(key) -> true  -> runs the trigger, checks its session
    replica B: pg_try_advisory_lock(key) -> false -> stands by, tries again every interval

The lock is a session lock on a connection of its own, so it goes when the holder's
connection goes (the process died, or the network between it and the database): the
server releases it and a standby takes it at its next try. The holder checks its
connection every interval and stops the trigger when the check fails, so two replicas
run it at once for one interval at most, and the trigger's per-message dedupe key covers
that overlap. Without PostgreSQL (a single replica on SQLite) every lease is held.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from typing import Protocol

import psycopg
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)


class Lease(Protocol):
    """Leadership of one named thing; ``acquire`` never raises for a database outage."""

    async def acquire(self) -> bool:
        """Take the lease if it is free; whether this process holds it now."""

    async def still_held(self) -> bool:
        """Whether the lease is still this process's (its connection still answers)."""

    async def release(self) -> None: ...


class Leases(Protocol):
    def lease(self, name: str) -> Lease: ...


class SoleLeases:
    """A process alone on its store: it holds every lease."""

    def lease(self, name: str) -> Lease:
        return _HeldLease()


class _HeldLease:
    async def acquire(self) -> bool:
        return True

    async def still_held(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class PostgresLeases:
    """Leases as advisory locks of the database at ``url`` (a store URL)."""

    def __init__(self, url: str, *, scope: str) -> None:
        self.conninfo = libpq_url(url)
        self.scope = scope  # the app's schema: locks are database-wide

    def lease(self, name: str) -> Lease:
        return _AdvisoryLease(self.conninfo, lock_key(f"{self.scope}/{name}"), name)


class _AdvisoryLease:
    def __init__(self, conninfo: str, key: int, name: str) -> None:
        self.conninfo = conninfo
        self.key = key
        self.name = name
        self._connection: psycopg.AsyncConnection[tuple[object, ...]] | None = None

    async def acquire(self) -> bool:
        try:
            if self._connection is None or self._connection.closed:
                self._connection = await psycopg.AsyncConnection.connect(
                    self.conninfo, autocommit=True, connect_timeout=5
                )
            cursor = await self._connection.execute("SELECT pg_try_advisory_lock(%s)", (self.key,))
            row = await cursor.fetchone()
        except psycopg.Error as exc:
            log.warning("lease %s: the database cannot be asked: %s", self.name, exc)
            await self._close()
            return False
        return bool(row and row[0])

    async def still_held(self) -> bool:
        connection = self._connection
        if connection is None or connection.closed:
            return False
        try:
            async with asyncio.timeout(5.0):
                await connection.execute("SELECT 1")
        except (psycopg.Error, TimeoutError) as exc:
            log.warning("lease %s: lost its connection: %s", self.name, exc)
            await self._close()
            return False
        return True

    async def release(self) -> None:
        # Closing the session releases its locks; an explicit unlock would need it alive.
        await self._close()

    async def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(psycopg.Error):
                await connection.close()


def lock_key(name: str) -> int:
    """A signed 64-bit advisory lock key for a name (what ``pg_advisory_lock`` takes)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def libpq_url(url: str) -> str:
    """A store URL (``postgresql+psycopg://``, ``postgres://``) as libpq takes it."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)
