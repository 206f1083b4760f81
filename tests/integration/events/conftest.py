"""Fixtures for the event bus against real servers (helpers in ``events_harness.py``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from .events_harness import Backend, Subscribers, require_nats


@pytest.fixture
def eventually() -> Callable[..., Any]:
    async def wait(condition: Callable[[], bool], timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while not condition():
                await asyncio.sleep(0.01)

    return wait


@pytest.fixture
async def subscribers() -> AsyncIterator[Subscribers]:
    """HTTP subscribers served by aiohttp on 127.0.0.1 (a free port)."""
    state = Subscribers()
    app = web.Application()
    app.router.add_post("/{behaviour}/{name}", state.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    state.base = f"http://{host}:{port}"
    yield state
    await runner.cleanup()


@pytest.fixture(params=["memory", "sqlite", "nats"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    """Each test body runs once per broker backend."""
    if request.param == "nats":
        require_nats()
    subject = Backend(request.param, tmp_path)
    yield subject
    await subject.close()
