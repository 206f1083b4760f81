"""The crash scenario of the no-loss tests, written once for every trigger kind.

    publish N numbered messages -> flowapp up -> (K executions exist) SIGKILL
    -> snapshot: executions in the store, messages the broker holds as acknowledged
    -> flowapp up again, same data dir and command -> N executions completed, broker drained
    -> graceful stop -> nothing left to deliver

The snapshot tells how many redeliveries the restart had to deduplicate: every execution
that existed at the kill beyond the messages acknowledged by then belongs to a message
the broker delivers again, so its second delivery must find the execution by its dedupe
key instead of starting another. How many that is depends on where the kill lands, so
``replay_after_restart`` also makes the broker deliver *every* message again:

    publish N -> flowapp up -> N completed -> stop -> broker.replay() -> publish 1 more
    -> flowapp up again -> that one completed, broker drained -> stop
    -> N + 1 executions: the N replayed deliveries started nothing
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from tests.integration.noloss.brokers import Broker
from tests.integration.noloss.launcher import FlowappUp, list_executions
from tests.integration.noloss.store_probe import status_counts

UNFINISHED = ("pending", "running", "waiting")


@dataclass
class CrashReport:
    kind: str
    published: int
    at_kill: Counter[str] = field(default_factory=Counter)
    acknowledged_at_kill: int | None = None
    orphaned_functions: int = 0
    executions: list[dict[str, Any]] = field(default_factory=list)
    leftover: int = -1
    seconds: float = 0.0

    @property
    def existed_at_kill(self) -> int:
        return sum(self.at_kill.values())

    @property
    def deduplicated(self) -> int | None:
        """Messages redelivered after the restart that already had their execution."""
        if self.acknowledged_at_kill is None:
            return None
        return self.existed_at_kill - self.acknowledged_at_kill

    def summary(self) -> str:
        unfinished = sum(self.at_kill[s] for s in UNFINISHED)
        return (
            f"{self.kind}: {self.published} published; killed at {self.existed_at_kill} "
            f"executions ({unfinished} unfinished), broker had {self.acknowledged_at_kill} "
            f"acknowledged -> {self.deduplicated} redeliveries deduplicated; "
            f"{len(self.executions)} executions in the end, {self.orphaned_functions} "
            f"function processes outlived the kill; {self.seconds:.1f} s"
        )


async def wait_until(
    check: Callable[[], Awaitable[bool]], *, timeout: float, what: str, up: FlowappUp
) -> None:
    """Poll ``check`` every 5 ms; fail with the platform's log if it exits or time runs out."""
    deadline = time.monotonic() + timeout
    while not await check():
        if not up.running:
            raise AssertionError(f"flowapp up exited while waiting for {what}\n{up.tail()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{up.tail()}")
        await asyncio.sleep(0.005)


async def crash_and_recover(
    broker: Broker, up: FlowappUp, app: str, *, count: int = 1000, kill_at: int = 200
) -> CrashReport:
    report = CrashReport(broker.kind, count)
    started = time.monotonic()
    await broker.publish(count)
    up.start()

    async def consumed_enough() -> bool:
        return sum(status_counts(up.db, app).values()) >= kill_at

    await wait_until(consumed_enough, timeout=45, what=f"{kill_at} executions", up=up)
    report.orphaned_functions = len(up.crash())
    report.at_kill = status_counts(up.db, app)
    report.acknowledged_at_kill = await broker.acknowledged()

    up.start()

    async def all_done() -> bool:
        counts = status_counts(up.db, app)
        return counts["completed"] >= count and (await broker.pending()) in (0, None)

    await wait_until(all_done, timeout=45, what=f"{count} completed executions", up=up)
    await asyncio.sleep(1.0)  # a late duplicate would show up now
    async with up.client() as client:
        report.executions = await list_executions(client, app)
    report.seconds = time.monotonic() - started
    up.stop()
    report.leftover = await broker.leftover()
    return report


async def replay_after_restart(
    broker: Broker, up: FlowappUp, app: str, *, count: int = 200
) -> list[dict[str, Any]]:
    """The executions after ``count`` messages were each delivered twice, and one more
    message (``n == count``) once; the stops in between are graceful."""

    def completed() -> int:
        return status_counts(up.db, app)["completed"]

    async def first_pass_done() -> bool:
        return completed() >= count

    async def second_pass_done() -> bool:
        # The extra message comes after the replayed ones; ``pending`` then says whether
        # every replayed one was acknowledged (MQTT cannot tell: the graceful stop drains
        # what was delivered, and ``leftover`` catches what was not).
        return completed() > count and (await broker.pending()) in (0, None)

    await broker.publish(count)
    up.start()
    await wait_until(first_pass_done, timeout=45, what=f"{count} completed executions", up=up)
    up.stop()
    await broker.replay()
    await broker.publish(1)
    up.start()
    await wait_until(second_pass_done, timeout=45, what="the replay to be consumed", up=up)
    await asyncio.sleep(1.0)
    async with up.client() as client:
        executions = await list_executions(client, app)
    up.stop()
    assert await broker.leftover() == 0, "the broker still had messages to deliver"
    return executions


def numbers(executions: list[dict[str, Any]]) -> Counter[int]:
    """How many executions recorded each message number (their output is ``{"n": n}``)."""
    return Counter((e.get("output") or {}).get("n", -1) for e in executions)
