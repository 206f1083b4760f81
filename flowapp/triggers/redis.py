"""The ``redis`` trigger: a Redis Stream read through a consumer group.

Keys: ``url`` (default ``redis://127.0.0.1:6379/0``), ``stream`` (required), ``group``
(default ``flowapp-<app>:<name>``, created with MKSTREAM if missing), ``consumer`` (default the
host name: stable across restarts, so a restarted trigger finds its own pending entries),
``startFrom`` (``earliest``, default, or ``latest``: where a new group starts),
``claimIdle`` (default ``PT1M``: entries pending that long on a consumer that vanished are
claimed), ``dataField`` (default ``data``). ``deadLetter: {stream}`` (default
``flowapp:dead-letter:<app>:<name>``).

Event id: ``<stream>:<entry id>``; ``time`` comes from the entry id's milliseconds. The
``dataField`` value is the body and the other fields become extension attributes; an
entry without that field becomes a JSON object of all its fields.

Reading order on each receive: first this consumer's own pending entries (left by a
previous run that stopped without acking), then entries idle longer than ``claimIdle``
on other consumers (XAUTOCLAIM), then new entries (XREADGROUP ``>``, COUNT = free slots).
XACK after the sink. A failed entry is XCLAIMed back to this consumer after the backoff
delay, which raises its broker-side delivery count; counts come from XPENDING.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import orjson
import redis.asyncio as aioredis
import redis.exceptions

from flowapp.triggers.base import DeadLetter, Incoming, Owner, TriggerConfig
from flowapp.triggers.errors import DeadLetterError, TriggerConnectionError
from flowapp.triggers.events import from_millis, safe_url
from flowapp.triggers.fields import Fields

_DRIVER_ERRORS = (redis.exceptions.RedisError, OSError, asyncio.TimeoutError)


@dataclass(frozen=True, slots=True)
class RedisConfig:
    url: str
    stream: str
    group: str
    consumer: str | None
    start_from: str
    claim_idle: float
    data_field: str
    dead_letter_stream: str


def parse_redis(body: Fields, dead_letter: Fields, owner: Owner) -> RedisConfig:
    name = owner.name(":")
    return RedisConfig(
        url=body.string("url", default="redis://127.0.0.1:6379/0"),
        stream=body.required("stream"),
        group=body.string("group", default=f"flowapp-{name}"),
        consumer=body.optional("consumer"),
        start_from=body.choice("startFrom", ("earliest", "latest"), default="earliest"),
        claim_idle=body.duration("claimIdle", default=60.0, minimum=0.01),
        data_field=body.string("dataField", default="data"),
        dead_letter_stream=dead_letter.string("stream", default=f"flowapp:dead-letter:{name}"),
    )


@dataclass(frozen=True, slots=True)
class RedisEntry:
    entry_id: str
    fields: Mapping[bytes, bytes]
    deliveries: int


def redis_incoming(*, source: str, stream: str, entry: RedisEntry, data_field: str) -> Incoming:
    """The :class:`Incoming` of one stream entry (pure: testable without a server)."""
    fields = {_text(k): v for k, v in entry.fields.items()}
    if data_field in fields:
        body = fields.pop(data_field)
        headers: dict[str, Any] = {k: _text(v) for k, v in fields.items()}
    else:
        body = orjson.dumps({k: _text(v) for k, v in fields.items()})
        headers = {"content-type": "application/json"}
    return Incoming(
        id=f"{stream}:{entry.entry_id}",
        source=source,
        subject=stream,
        body=body,
        headers=headers,
        time=from_millis(int(entry.entry_id.split("-", 1)[0])),
        content_type=headers.get("content-type"),
        deliveries=entry.deliveries,
    )


class RedisSource:
    """The Redis side of a ``redis`` trigger (see the module docstring)."""

    def __init__(self, config: TriggerConfig, settings: RedisConfig) -> None:
        self._config = config
        self._s = settings
        self._consumer = settings.consumer or socket.gethostname()
        self._source = f"{safe_url(settings.url)}/{settings.stream}"
        self._client: aioredis.Redis | None = None
        self._backlog_cursor: str | None = "0"
        self._claim_cursor = "0-0"
        self._claimed_at = 0.0
        self._held: set[str] = set()

    async def open(self) -> None:
        self._backlog_cursor, self._claim_cursor, self._held = "0", "0-0", set()
        try:
            self._client = aioredis.from_url(self._s.url, socket_connect_timeout=2)
            await self._client.ping()
            start = "0" if self._s.start_from == "earliest" else "$"
            with contextlib.suppress(redis.exceptions.ResponseError):  # BUSYGROUP: exists
                await self._client.xgroup_create(
                    self._s.stream, self._s.group, id=start, mkstream=True
                )
        except _DRIVER_ERRORS as exc:
            raise TriggerConnectionError(f"redis {self._source}: {exc!r}") from exc

    @property
    def _redis(self) -> aioredis.Redis:
        if self._client is None:
            raise TriggerConnectionError("redis connection closed")
        return self._client

    async def receive(self, limit: int) -> Sequence[RedisEntry]:
        try:
            entries = await self._backlog(limit) or await self._claim(limit)
            entries = entries or await self._read(">", limit, block=1000)
        except _DRIVER_ERRORS as exc:
            raise TriggerConnectionError(f"redis read: {exc!r}") from exc
        self._held.update(e.entry_id for e in entries)
        return entries

    async def _backlog(self, limit: int) -> list[RedisEntry]:
        """This consumer's own pending entries, once after each (re)connect."""
        if self._backlog_cursor is None:
            return []
        entries = await self._read(self._backlog_cursor, limit, block=None)
        self._backlog_cursor = entries[-1].entry_id if entries else None
        return await self._with_counts(entries)

    async def _claim(self, limit: int) -> list[RedisEntry]:
        """Entries idle past ``claimIdle`` on any consumer (one that crashed, usually)."""
        now = time.monotonic()
        if now - self._claimed_at < self._s.claim_idle / 2:
            return []
        self._claimed_at = now
        idle_ms = int(self._s.claim_idle * 1000)
        reply: Any = await self._redis.xautoclaim(
            self._s.stream, self._s.group, self._consumer, idle_ms, self._claim_cursor, limit
        )
        self._claim_cursor = _text(reply[0])
        # Our own slow entries may be idle too: they are still being processed, skip them.
        entries = [e for e in _entries(reply[1], 1) if e.entry_id not in self._held]
        return await self._with_counts(entries)

    async def _read(self, cursor: str, limit: int, *, block: int | None) -> list[RedisEntry]:
        reply: Any = await self._redis.xreadgroup(
            self._s.group, self._consumer, {self._s.stream: cursor}, count=limit, block=block
        )
        rows = reply[0][1] if reply else []
        gone = [_text(row[0]) for row in rows if not row[1]]  # deleted while pending
        if gone:
            await self._redis.xack(self._s.stream, self._s.group, *gone)
        return _entries([row for row in rows if row[1]], 1)

    async def _with_counts(self, entries: list[RedisEntry]) -> list[RedisEntry]:
        if not entries:
            return entries
        pending: list[dict[str, Any]] = await self._redis.xpending_range(
            self._s.stream,
            self._s.group,
            min=entries[0].entry_id,
            max=entries[-1].entry_id,
            count=len(entries) * 2,
            consumername=self._consumer,
        )
        counts = {_text(p["message_id"]): int(p["times_delivered"]) for p in pending}
        return [replace(e, deliveries=counts.get(e.entry_id, e.deliveries)) for e in entries]

    def describe(self, message: RedisEntry) -> Incoming:
        return redis_incoming(
            source=self._source, stream=self._s.stream, entry=message, data_field=self._s.data_field
        )

    async def ack(self, message: RedisEntry) -> None:
        try:
            await self._redis.xack(self._s.stream, self._s.group, message.entry_id)
        except _DRIVER_ERRORS as exc:
            raise TriggerConnectionError(f"redis XACK: {exc!r}") from exc
        self._held.discard(message.entry_id)

    async def redeliver(self, message: RedisEntry, delay: float) -> RedisEntry | None:
        await asyncio.sleep(delay)
        try:
            rows = await self._redis.xclaim(
                self._s.stream, self._s.group, self._consumer, 0, [message.entry_id]
            )
        except _DRIVER_ERRORS as exc:
            raise TriggerConnectionError(f"redis XCLAIM: {exc!r}") from exc
        if not rows:  # trimmed from the stream meanwhile: nothing left to deliver
            self._held.discard(message.entry_id)
            return None
        return replace(message, deliveries=message.deliveries + 1)

    async def dead_letter(self, message: RedisEntry, letter: DeadLetter) -> None:
        fields: dict[Any, Any] = {**message.fields, **letter.headers()}
        fields["flowapp-entry-id"] = message.entry_id
        try:
            await self._redis.xadd(self._s.dead_letter_stream, fields)
        except _DRIVER_ERRORS as exc:
            raise DeadLetterError(f"redis dead letter: {exc!r}") from exc

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(*_DRIVER_ERRORS):
                await client.aclose()


def _entries(rows: Sequence[Any], deliveries: int) -> list[RedisEntry]:
    return [RedisEntry(_text(row[0]), dict(row[1]), deliveries) for row in rows if row[1]]


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
