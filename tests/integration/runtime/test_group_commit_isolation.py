"""One execution whose state the store refuses faults alone: the group committer finds
the culprit of a refused batch and commits everyone else's checkpoints (before, the
whole batch failed and 1 to 8 of 30 unrelated executions faulted with it)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest

from flowapp.engine.testing import workflow_from_yaml
from flowapp.runtime.committer import GroupCommitter
from flowapp.runtime.launcher import execution_record
from flowapp.runtime.registry import WorkflowRegistry
from flowapp.runtime.runtime import Runtime
from flowapp.store import open_store
from flowapp.store.port import Checkpoint, ExecutionRecord, Store, StoreError

POISON = "poison"


class RefusingStore:
    """A real SQLite store that refuses, like a database refusing a value, any batch
    holding a checkpoint whose state contains ``POISON``."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.refused = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def _check(self, checkpoints: Sequence[Checkpoint]) -> None:
        if any(POISON.encode() in orjson.dumps(c.state) for c in checkpoints):
            self.refused += 1
            raise StoreError("value too large for its column")

    def commit(self, checkpoints: Sequence[Checkpoint]) -> None:
        self._check(checkpoints)
        self.store.commit(checkpoints)

    def create_executions(
        self, pairs: Sequence[tuple[ExecutionRecord, Checkpoint]]
    ) -> list[str | None]:
        self._check([checkpoint for _, checkpoint in pairs])
        return self.store.create_executions(pairs)

    def create_and_commit(
        self, pairs: Sequence[tuple[ExecutionRecord, Checkpoint]], checkpoints: Sequence[Checkpoint]
    ) -> list[str | None]:
        self._check([checkpoint for _, checkpoint in pairs] + list(checkpoints))
        return self.store.create_and_commit(pairs, checkpoints)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RefusingStore]:
    real = open_store(f"sqlite:///{tmp_path / 'runtime.db'}")
    real.migrate()
    yield RefusingStore(real)
    real.close()


JOIN_LATER = """
do:
  - pause: {wait: {milliseconds: 150}}
  - join: {set: {joined: '${ .a + .b }'}}
"""


async def test_a_refused_checkpoint_faults_only_its_own_execution(store: RefusingStore) -> None:
    workflow = WorkflowRegistry(store.store).add(workflow_from_yaml(JOIN_LATER).definition)
    runtime = Runtime(store)  # type: ignore[arg-type]
    await runtime.start()
    inputs = [{"a": "fi", "b": f"ne-{n}"} for n in range(29)] + [{"a": "poi", "b": "son"}]
    ids = await asyncio.gather(*(runtime.start_execution(workflow, i) for i in inputs))
    outcomes = await asyncio.gather(*(runtime.wait_for(i, timeout=20) for i in ids))
    await runtime.stop()
    assert store.refused >= 1  # the poisoned checkpoint was refused at least once
    *fine, poisoned = outcomes
    assert [o.status for o in fine] == ["completed"] * 29
    assert [o.output["joined"] for o in fine] == [f"fine-{n}" for n in range(29)]
    assert poisoned.status == "faulted"
    assert "could not be saved" in poisoned.error["detail"]
    stored = [store.get_execution(i).status for i in ids]
    assert stored == ["completed"] * 29 + ["faulted"]


async def test_a_refused_creation_fails_only_its_own_start(store: RefusingStore) -> None:
    workflow = WorkflowRegistry(store.store).add(workflow_from_yaml(JOIN_LATER).definition)
    runtime = Runtime(store)  # type: ignore[arg-type]
    await runtime.start()
    inputs = [{"a": "x", "b": str(n)} for n in range(9)] + [{"a": POISON, "b": ""}]
    started = await asyncio.gather(
        *(runtime.start_execution(workflow, i) for i in inputs), return_exceptions=True
    )
    await runtime.stop()
    *fine, refused = started
    assert isinstance(refused, StoreError)
    assert all(isinstance(i, str) and store.get_execution(i) is not None for i in fine)


class CountingStore(RefusingStore):
    """Counts the store's write transactions, by kind."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.transactions: list[str] = []

    def commit(self, checkpoints: Sequence[Checkpoint]) -> None:
        self.transactions.append("commit")
        super().commit(checkpoints)

    def create_executions(
        self, pairs: Sequence[tuple[ExecutionRecord, Checkpoint]]
    ) -> list[str | None]:
        self.transactions.append("create")
        return super().create_executions(pairs)

    def create_and_commit(
        self, pairs: Sequence[tuple[ExecutionRecord, Checkpoint]], checkpoints: Sequence[Checkpoint]
    ) -> list[str | None]:
        self.transactions.append("both")
        return super().create_and_commit(pairs, checkpoints)


def _new(workflow: Any, execution_id: str, state: Any) -> tuple[ExecutionRecord, Checkpoint]:
    record = execution_record(execution_id, workflow, {}, status="running", now=1.0, owner="me")
    return record, _checkpoint(execution_id, state)


def _checkpoint(execution_id: str, state: Any) -> Checkpoint:
    return Checkpoint(execution_id=execution_id, status="running", state=state, updated_at=2.0)


async def test_new_executions_and_others_checkpoints_share_one_transaction(
    store: RefusingStore,
) -> None:
    """Executions created while others step are written in the transaction that commits
    the others' checkpoints; a batch the store refuses is written apart, where only its
    culprit fails."""
    counting = CountingStore(store.store)
    workflow = WorkflowRegistry(counting.store).add(workflow_from_yaml(JOIN_LATER).definition)
    committer = GroupCommitter(counting, inline=True)  # type: ignore[arg-type]
    await committer.start()
    try:
        await committer.create(*_new(workflow, "a", {"n": 0}))
        await asyncio.gather(  # queued before the committer runs: one batch
            committer.commit(_checkpoint("a", {"n": 1})),
            committer.create(*_new(workflow, "b", {"n": 0})),
        )
        assert counting.transactions == ["create", "both"]
        assert counting.store.load_state("a") == {"n": 1}
        assert counting.store.load_state("b") == {"n": 0}
        refused = await asyncio.gather(
            committer.commit(_checkpoint("a", {"n": 2})),
            committer.create(*_new(workflow, "c", POISON)),
            return_exceptions=True,
        )
    finally:
        await committer.stop()
    assert refused[0] is None and isinstance(refused[1], StoreError)
    assert counting.transactions[2:5] == ["both", "create", "commit"]
    assert counting.store.load_state("a") == {"n": 2}
    assert counting.store.get_execution("c") is None
