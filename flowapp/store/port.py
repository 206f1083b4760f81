"""The store port: everything the runtime and the API need from a database.

One narrow interface, three adapters: SQLite (the default, WAL), PostgreSQL (several
engine processes share one database), and an in-memory fake for fast tests. The same
test bodies run against all three (``tests/integration/store``).

The runtime writes through ``commit``: one call carries the checkpoints of many
executions (group commit) and is one transaction. A checkpoint is what one decision
changed for one execution: its row (status, state snapshot, output ...), the task runs
that started or ended, the timers and subscriptions it armed or dropped, and the
fire-and-forget commands (emitted events) to carry out after commit (the outbox).

All times are seconds since the epoch (floats); JSON values are plain Python objects.
Methods are synchronous: the runtime calls them from its writer thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from flowapp.engine.records import TASK_RUN_FIELDS, TaskRunFields


class StoreError(Exception):
    """Root of store errors; driver errors are converted to it at the adapter."""


class StoreUnavailable(StoreError):
    """The database cannot be reached now; the caller may retry later."""


class DuplicateExecution(StoreError):
    """An execution with this dedupe key exists already (its id is ``existing_id``)."""

    def __init__(self, existing_id: str) -> None:
        super().__init__(f"an execution exists already for this key: {existing_id}")
        self.existing_id = existing_id


@dataclass(frozen=True, slots=True)
class WorkflowRecord:
    """A workflow definition as deployed: immutable, addressed by the digest of its text."""

    id: str
    namespace: str
    name: str
    version: str
    document: dict[str, Any]
    app: str | None = None
    revision: str | None = None
    created_at: float = 0.0
    functions: tuple[str, ...] = ()  # FlowApp functions that `call: <name>` resolves to


@dataclass(slots=True)
class ExecutionRecord:
    id: str
    workflow_id: str
    status: str
    input: Any
    created_at: float
    started_at: float | None = None
    ended_at: float | None = None
    updated_at: float | None = None
    output: Any = None
    error: dict[str, Any] | None = None
    app: str | None = None
    revision: str | None = None
    dedupe_key: str | None = None
    parent_id: str | None = None
    rerun_of: str | None = None
    owner: str | None = None
    lease_until: float | None = None


@dataclass(slots=True, kw_only=True)
class TaskRunRecord(TaskRunFields):
    """A task run as the store keeps it: of ``execution_id``, on app ``revision``."""

    execution_id: str
    revision: str | None = None  # the app revision it ran on (a retry may move on to another)

    @classmethod
    def of(cls, execution_id: str, run: TaskRunFields, *, revision: str | None) -> TaskRunRecord:
        """The record of a task run that a decision reported."""
        fields = {name: getattr(run, name) for name in TASK_RUN_FIELDS}
        return cls(execution_id=execution_id, revision=revision, **fields)


@dataclass(frozen=True, slots=True)
class TimerRecord:
    execution_id: str
    effect_id: str
    due_at: float


@dataclass(frozen=True, slots=True)
class SubscriptionRecord:
    execution_id: str
    effect_id: str
    attributes: list[dict[str, str]]  # exact attribute values per alternative; [] = any event


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A fire-and-forget command to carry out after commit (e.g. emit an event)."""

    id: int
    execution_id: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SignalRecord:
    """A signal addressed to an execution from outside its engine process
    (cancel, suspend, resume, an event, a timer that another process found due)."""

    id: int
    execution_id: str
    payload: dict[str, Any]
    created_at: float


@dataclass(slots=True)
class Checkpoint:
    """What one decision changed for one execution; applied in ``commit``. ``output``,
    ``error`` and ``ended_at`` are always written; ``state``, ``started_at``,
    ``workflow_id`` and ``revision`` only when not None (None keeps the stored value).
    A retry on another revision of the app sets the last two: the execution goes on
    with that revision's workflow. ``state`` may come already encoded as JSON (an
    ``orjson.Fragment``, as a decider process returns it), which every adapter writes
    as it is."""

    execution_id: str
    status: str
    state: dict[str, Any] | orjson.Fragment | None
    updated_at: float
    started_at: float | None = None
    output: Any = None
    error: dict[str, Any] | None = None
    ended_at: float | None = None
    task_runs: list[TaskRunRecord] = field(default_factory=list)
    timers_added: list[TimerRecord] = field(default_factory=list)
    timers_removed: list[str] = field(default_factory=list)  # effect ids
    subscriptions_added: list[SubscriptionRecord] = field(default_factory=list)
    subscriptions_removed: list[str] = field(default_factory=list)  # effect ids
    outbox: list[dict[str, Any]] = field(default_factory=list)
    signals_consumed: list[int] = field(default_factory=list)
    owner: str | None = None  # the committing process must hold the lease (None: no check)
    workflow_id: str | None = None
    revision: str | None = None


@dataclass(frozen=True, slots=True)
class ExecutionFilter:
    app: str | None = None
    workflow_id: str | None = None
    status: str | None = None
    started_after: float | None = None
    started_before: float | None = None
    id_prefix: str | None = None  # ids that start with it (commands take a unique prefix)
    parent_id: str | None = None  # sub-workflows started by this execution
    # Executions whose input, as JSON text, holds this text (any letter case). It reads
    # every row the other conditions leave, newest first, until a page is full.
    input_contains: str | None = None


@dataclass(frozen=True, slots=True)
class Page:
    items: list[ExecutionRecord]
    next_cursor: str | None  # opaque; pass back to get the next page


@dataclass(frozen=True, slots=True)
class PurgeFilter:
    """Which finished executions a purge may delete: those that ended before
    ``ended_before``, of ``app`` (of any app, or none, when None) but not of the apps in
    ``except_apps`` (they have a retention of their own). An execution whose outbox still
    holds commands, or whose parent execution has not finished, is kept whatever its age:
    deleting it would lose an effect or a child the parent may still read."""

    ended_before: float
    app: str | None = None
    except_apps: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Purged:
    """How many executions and task runs a purge deleted (or, dry, would delete)."""

    executions: int = 0
    task_runs: int = 0

    def __add__(self, other: Purged) -> Purged:
        return Purged(self.executions + other.executions, self.task_runs + other.task_runs)

    @property
    def nothing(self) -> bool:
        return self.executions == 0 and self.task_runs == 0


@dataclass(frozen=True, slots=True)
class LeaseClaim:
    """Who takes unfinished executions, for how long, and how many at most; with
    ``include_own``, the executions ``owner`` already holds are taken back too (a process
    restarting under the same name takes its own executions back at once)."""

    owner: str
    lease_seconds: float
    limit: int
    include_own: bool = True


class LeaseLost(StoreError):
    """The checkpoint's owner no longer holds the execution's lease."""

    def __init__(self, execution_ids: Sequence[str]) -> None:
        super().__init__(f"lease lost for {len(execution_ids)} execution(s)")
        self.execution_ids = list(execution_ids)


class Store(Protocol):
    """Synchronous store operations. Implementations must be safe to call from one
    writer thread plus any number of reader threads. An optional ``writes_inline``
    attribute (True for an embedded file or memory) tells the runtime that writes are
    fast enough to make on its event loop's thread; an optional ``create_and_commit(pairs,
    checkpoints)`` method does ``create_executions`` and ``commit`` in one transaction
    (one commit instead of two), all or nothing."""

    def migrate(self) -> None:
        """Create or upgrade the schema (idempotent)."""

    def close(self) -> None: ...

    # --- workflows ----------------------------------------------------------------
    def save_workflow(self, record: WorkflowRecord) -> None:
        """Insert if absent (same id = same document)."""

    def get_workflow(self, workflow_id: str) -> WorkflowRecord | None: ...

    # --- executions ---------------------------------------------------------------
    def create_execution(self, record: ExecutionRecord, checkpoint: Checkpoint) -> None:
        """Insert the execution and apply its first checkpoint in one transaction.
        Raises ``DuplicateExecution`` when ``dedupe_key`` is taken."""

    def create_executions(
        self, pairs: Sequence[tuple[ExecutionRecord, Checkpoint]]
    ) -> list[str | None]:
        """Create many executions with their first checkpoints in one transaction. For each
        pair: ``None`` if it was created, or the id of the execution that already has its
        dedupe key (an earlier pair of the same batch included), which was not created."""

    def commit(self, checkpoints: Sequence[Checkpoint]) -> None:
        """Apply many checkpoints in one transaction. When a checkpoint names an
        ``owner`` that does not hold that execution's lease, nothing is applied and
        ``LeaseLost`` lists the offending executions."""

    def get_execution(self, execution_id: str) -> ExecutionRecord | None: ...

    def find_by_dedupe_key(self, dedupe_key: str) -> ExecutionRecord | None: ...

    def list_executions(
        self, where: ExecutionFilter, *, limit: int = 50, cursor: str | None = None
    ) -> Page:
        """Newest first (by ``created_at``, then id), cursor-paginated."""

    def load_state(self, execution_id: str) -> dict[str, Any] | None: ...

    def load_executions(
        self, execution_ids: Sequence[str]
    ) -> list[tuple[ExecutionRecord, dict[str, Any] | None]]:
        """Records with their state snapshots, in one read (for adopting many at once);
        unknown ids are left out."""

    def task_runs(
        self, execution_id: str, *, after: int = 0, limit: int | None = None
    ) -> list[TaskRunRecord]:
        """In the order they started (by ``id``): those whose id is above ``after``, at
        most ``limit`` of them (all when None). Ids only grow, so ``after`` = the last id
        of a page gives the next page, and a run that ended keeps its id."""

    def task_runs_by_id(self, execution_id: str, ids: Sequence[int]) -> list[TaskRunRecord]:
        """These runs of the execution (those that exist), by ``id``: what a watcher
        reads again of the runs it saw unfinished."""

    def count_task_runs(self, execution_id: str) -> int: ...

    def count_executions(self, where: ExecutionFilter) -> int: ...

    # --- retention ----------------------------------------------------------------
    def count_purgeable(self, where: PurgeFilter) -> Purged:
        """What purging with ``where`` would delete now: executions and their task runs."""

    def purge_batch(self, where: PurgeFilter, *, limit: int) -> Purged:
        """One small transaction of a purge: delete at most ``limit`` task runs of
        executions ``where`` selects (at most ``limit`` / 5 of them, in no set order), then those
        of these executions that have no task run left, with their timers, subscriptions
        and signals. Nothing deleted means nothing is left to purge. An execution of many
        task runs takes several batches; until its last one it stays, finished, with
        fewer task runs."""

    # --- recovery and scale-out ---------------------------------------------------
    def claim_executions(self, claim: LeaseClaim, *, now: float) -> list[str]:
        """Take the lease of unfinished executions whose lease is free or expired (and of
        the claimant's own, as ``claim`` says), using ``FOR UPDATE SKIP LOCKED`` on
        PostgreSQL, and return their ids, oldest first."""

    def renew_leases(self, owner: str, *, now: float, lease_seconds: float) -> list[str]:
        """Extend every lease ``owner`` holds on an unfinished execution; returns their ids."""

    def release_leases(self, owner: str, execution_ids: Iterable[str] | None = None) -> None: ...

    def lease_for_retry(
        self, execution_id: str, *, seen_owner: str | None, owner: str, lease_until: float
    ) -> bool:
        """Lease a faulted execution to ``owner``, who is about to retry it, if it is still
        faulted and still held by ``seen_owner`` (its owner when the retry read it): of
        retries racing from any processes, one gets True, and the others find it taken
        or no longer faulted. The status stays faulted until the retry's first commit."""

    def due_timers(self, *, before: float, owner: str | None, limit: int) -> list[TimerRecord]:
        """Timers due before ``before``, of executions ``owner`` holds (any if None)."""

    def subscriptions_matching(self, attributes: dict[str, Any]) -> list[SubscriptionRecord]:
        """Subscriptions an event with these attributes may satisfy."""

    def pending_outbox(self, *, limit: int, owner: str | None = None) -> list[OutboxItem]: ...

    def outbox_done(self, ids: Iterable[int]) -> None: ...

    def send_signal(self, execution_id: str, payload: dict[str, Any], *, now: float) -> int:
        """Queue a signal for whichever process holds the execution."""

    def pending_signals(self, *, owner: str | None, limit: int) -> list[SignalRecord]:
        """Signals for executions ``owner`` holds (all if None), oldest first."""

    def discard_signals(self, ids: Iterable[int]) -> None:
        """Drop signals that can no longer apply (their execution has ended)."""
