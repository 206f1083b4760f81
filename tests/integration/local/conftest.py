"""Fixtures for the local target's controllers against real SQLite files and real HTTP.

- ``stores``: the execution store and the platform store on one SQLite file in
  ``tmp_path`` (as the server runs them: one URL, one Alembic history), migrated;
- ``receiver``: a webhook receiver (aiohttp) on 127.0.0.1 that records every request
  and answers with the statuses queued in ``answers`` (then 200);
- ``notifications(platform)``: every notification row, delivered and given up too,
  read from the table (the port only hands out due ones).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import web

from flowapp.store.platform import NotificationRecord
from flowapp.store.platform.sql import SqlPlatformStore
from flowapp.store.platform.sql.tables import alert_notifications
from flowapp.store.sql import SqlStore


@dataclass
class Stores:
    executions: SqlStore
    platform: SqlPlatformStore


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[Stores]:
    url = f"sqlite:///{tmp_path / 'flowapp.db'}"
    executions, platform = SqlStore(url), SqlPlatformStore(url)
    executions.migrate()
    yield Stores(executions, platform)
    platform.close()
    executions.close()


def notifications(platform: SqlPlatformStore) -> list[NotificationRecord]:
    query = sa.select(alert_notifications).order_by(alert_notifications.c.id)
    with platform.engine.connect() as conn:
        return [NotificationRecord(**row._mapping) for row in conn.execute(query)]


@dataclass(frozen=True)
class Request:
    answered: int
    payload: dict[str, Any]
    headers: dict[str, str]


@dataclass
class Receiver:
    url: str = ""
    answers: list[int] = field(default_factory=list)  # statuses to answer first
    delay: float = 0.0  # seconds before answering
    requests: list[Request] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        payload = await request.json()
        status = self.answers.pop(0) if self.answers else 200
        await asyncio.sleep(self.delay)
        self.requests.append(Request(status, payload, dict(request.headers)))
        headers = {"Location": "/elsewhere"} if 300 <= status < 400 else {}
        return web.Response(status=status, text="nope" if status >= 300 else "ok", headers=headers)

    def accepted(self) -> list[Request]:
        return [r for r in self.requests if r.answered == 200]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    app = web.Application()
    app.router.add_post("/hook", found.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    found.url = f"http://{host}:{port}/hook"
    yield found
    await runner.cleanup()
