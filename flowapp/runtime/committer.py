"""Group commit: checkpoints from many executions become one transaction.

Callers ``await commit(checkpoint)`` and resume once it is durable. A single writer
thread takes every checkpoint queued since its last transaction and commits them
together, so at high load one fsync serves many steps. When the database is unreachable
the batch is retried with backoff and the callers simply wait; when a lease was lost the
executions concerned are failed with ``LeaseLost`` and the rest is committed.

When the store refuses a batch for any other reason (a value it cannot hold, a row too
large), the culprit is found by halving: each half is written on its own, down to the
single checkpoint that fails. Only its caller gets the error; every other checkpoint of
the batch is committed, so one unsaveable execution never faults its neighbours. A
batch with one bad checkpoint costs about ``2 * log2(size)`` extra transactions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from flowapp.store.port import (
    Checkpoint,
    DuplicateExecution,
    ExecutionRecord,
    LeaseLost,
    Store,
    StoreUnavailable,
)

T = TypeVar("T")

# Inline commits are for the common small ones: a batch writing more rows than this (a
# loop's turn stores a task run per task) goes to the writer thread, where SQLite lets go
# of the GIL while it writes and syncs, so the event loop is not held for that long.
INLINE_ROWS = 64

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Pending:
    checkpoint: Checkpoint
    future: asyncio.Future[None]
    record: ExecutionRecord | None = None  # set for the first checkpoint of a new execution


class GroupCommitter:
    def __init__(
        self,
        store: Store,
        *,
        max_batch: int = 512,
        max_backoff: float = 5.0,
        inline: bool = False,
        on_commit: Callable[[int, float], None] | None = None,
    ) -> None:
        self.store = store
        # Told of each transaction that committed: how many checkpoints, how many seconds.
        self.on_commit = on_commit
        # Inline: write on the event loop's thread. For an embedded SQLite file a commit
        # takes well under a millisecond, and two thread hops per step cost more than
        # the loop loses while it waits; a network database keeps its own thread, and so
        # does a large batch (``INLINE_ROWS``).
        self.inline = inline
        self.max_batch = max_batch
        self.max_backoff = max_backoff
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="flowapp-writer")
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.checkpoints = 0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="flowapp-group-commit")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._writer.shutdown(wait=True)

    async def run_in_writer(self, function: Callable[..., T], *args: Any) -> T:
        """Run a store call on the writer thread (SQLite wants a single writer)."""
        return await asyncio.get_running_loop().run_in_executor(self._writer, function, *args)

    async def commit(self, checkpoint: Checkpoint) -> None:
        future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(checkpoint, future))
        await future

    async def create(self, record: ExecutionRecord, checkpoint: Checkpoint) -> None:
        """Insert a new execution with its first checkpoint (may raise DuplicateExecution)."""
        future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(checkpoint, future, record))
        await future

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._write(batch)
            except Exception as exc:  # the writer must outlive any one bad batch
                log.exception("group commit failed")
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(exc)

    async def _write(self, batch: list[_Pending]) -> None:
        creations = [p for p in batch if p.record is not None]
        updates = [p for p in batch if p.record is None]
        if creations and updates and self._together(creations, updates):
            return
        if creations:
            await self._attempt(self._create_many, creations)
        if updates:
            await self._attempt(self._commit_many, updates)

    def _together(self, creations: list[_Pending], updates: list[_Pending]) -> bool:
        """New executions and checkpoints of others in one transaction, when the store
        can and writes inline: one commit (the bulk of a small transaction's cost on
        SQLite) instead of two. False if it cannot or the store refused them: they are
        then written apart, where each kind of failure is handled (the transaction
        rolled back whole)."""
        both = getattr(self.store, "create_and_commit", None)
        pendings = creations + updates
        if both is None or not self.inline or _rows(pendings) > INLINE_ROWS:
            return False
        began = time.perf_counter()
        try:
            existing = both(_pairs(creations), [p.checkpoint for p in updates])
        except Exception:
            return False
        self._settle(pendings, _duplicates(existing) + [None] * len(updates), began)
        return True

    def _create_many(self, creations: list[_Pending]) -> list[BaseException | None]:
        return _duplicates(self.store.create_executions(_pairs(creations)))

    def _commit_many(self, updates: list[_Pending]) -> list[BaseException | None]:
        self.store.commit([p.checkpoint for p in updates])
        return [None] * len(updates)

    async def _attempt(self, write: Any, pendings: list[_Pending]) -> None:
        """Write, retrying while the database is unavailable; settle the futures."""
        delay = 0.05
        while True:
            began = time.perf_counter()
            try:
                if self.inline and _rows(pendings) <= INLINE_ROWS:
                    outcomes = write(pendings)
                else:
                    outcomes = await self.run_in_writer(write, pendings)
            except StoreUnavailable as exc:
                log.warning("store unavailable, retrying in %.2f s: %s", delay, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff)
                continue
            except LeaseLost as exc:
                await self._without_lost(pendings, exc)
                return
            except Exception as exc:
                if len(pendings) > 1:
                    await self._halves(write, pendings)
                    return
                if not pendings[0].future.done():
                    pendings[0].future.set_exception(exc)
                return
            self._settle(pendings, outcomes, began)
            return

    def _settle(
        self, pendings: list[_Pending], outcomes: list[BaseException | None], began: float
    ) -> None:
        """A transaction committed: tell its callers."""
        self.batches += 1
        self.checkpoints += len(pendings)
        if self.on_commit is not None:
            self.on_commit(len(pendings), time.perf_counter() - began)
        for pending, outcome in zip(pendings, outcomes, strict=True):
            if pending.future.done():
                continue
            if outcome is None:
                pending.future.set_result(None)
            else:
                pending.future.set_exception(outcome)

    async def _halves(self, write: Any, pendings: list[_Pending]) -> None:
        """Write each half of a refused batch on its own (each halves again if refused)."""
        middle = len(pendings) // 2
        await self._attempt(write, pendings[:middle])
        await self._attempt(write, pendings[middle:])

    async def _without_lost(self, pendings: list[_Pending], lost: LeaseLost) -> None:
        kept = []
        for pending in pendings:
            if pending.checkpoint.execution_id in lost.execution_ids:
                pending.future.set_exception(LeaseLost([pending.checkpoint.execution_id]))
            else:
                kept.append(pending)
        if kept:
            await self._attempt(self._commit_many, kept)


def _pairs(creations: list[_Pending]) -> list[tuple[ExecutionRecord, Checkpoint]]:
    return [(p.record, p.checkpoint) for p in creations if p.record is not None]


def _duplicates(existing: list[str | None]) -> list[BaseException | None]:
    """Each creation's outcome: None, or the execution that has its dedupe key."""
    return [None if other is None else DuplicateExecution(other) for other in existing]


def _rows(pendings: list[_Pending]) -> int:
    return sum(1 + len(p.checkpoint.task_runs) for p in pendings)
