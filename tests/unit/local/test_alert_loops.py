"""The shared round loop and the retry policy of notifications."""

from __future__ import annotations

import asyncio

import pytest

from flowapp.local.alerts import Periodic, RetryPolicy
from flowapp.local.alerts.sender import NotificationSender
from flowapp.store.platform import MemoryPlatformStore


def test_the_backoff_doubles_up_to_five_minutes_then_gives_up_after_ten_attempts() -> None:
    policy = RetryPolicy()

    delays = [policy.delay(attempts) for attempts in range(1, 11)]

    assert delays == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]
    assert policy.next_attempt_at(1, now=100.0) == 101.0
    assert policy.next_attempt_at(9, now=100.0) == 356.0
    assert policy.next_attempt_at(10, now=100.0) is None
    assert RetryPolicy(max_attempts=100).delay(5_000) == 300.0  # no overflow


def test_a_lease_shorter_than_the_timeout_is_refused() -> None:
    with pytest.raises(ValueError, match="lease_seconds"):
        NotificationSender(MemoryPlatformStore(), timeout=5.0, lease_seconds=5.0)


async def test_rounds_repeat_survive_errors_and_stop_cleanly() -> None:
    rounds: list[int] = []

    async def step() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 2:
            raise RuntimeError("boom")

    periodic = Periodic("test", step, interval=0.01)
    await periodic.start()
    await periodic.start()  # idempotent
    while len(rounds) < 5:
        await asyncio.sleep(0.01)
    await periodic.stop()
    count = len(rounds)
    await asyncio.sleep(0.05)

    assert len(rounds) == count and not periodic.running
    await periodic.stop()  # idempotent


def test_the_interval_must_be_positive() -> None:
    async def step() -> None: ...

    with pytest.raises(ValueError, match="interval"):
        Periodic("test", step, interval=0)
