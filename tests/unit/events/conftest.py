"""Fixtures for the event bus's unit tests: no servers, no files."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from flowapp.events.broker import StoreBroker
from flowapp.events.memory import MemoryStore

Eventually = Callable[[Callable[[], bool]], Awaitable[None]]


@pytest.fixture
def eventually() -> Eventually:
    """Wait (up to 5 s) until a condition holds; fail with the condition otherwise."""

    async def wait(condition: Callable[[], bool], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while not condition():
                await asyncio.sleep(0.005)

    return wait


@pytest.fixture
async def broker() -> AsyncIterator[StoreBroker]:
    """A started in-memory broker, stopped after the test."""
    subject = StoreBroker(MemoryStore())
    await subject.start()
    yield subject
    await subject.stop()
