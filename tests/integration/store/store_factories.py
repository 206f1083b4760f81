"""Small builders for store records, so each test spells out only what it is about."""

from __future__ import annotations

from typing import Any

from flowapp.store import Checkpoint, ExecutionRecord, Store, TaskRunRecord, WorkflowRecord

WORKFLOW_ID = "wf-1"
T0 = 1_700_000_000.0


def workflow(workflow_id: str = WORKFLOW_ID, **changes: Any) -> WorkflowRecord:
    values: dict[str, Any] = {
        "id": workflow_id,
        "namespace": "default",
        "name": "greet",
        "version": "1.0.0",
        "document": {"document": {"dsl": "1.0.0", "name": "greet"}, "do": [{"a": {"set": {}}}]},
        "app": "shop",
        "revision": "r1",
        "created_at": T0,
        "functions": ("append", "display"),
    }
    return WorkflowRecord(**(values | changes))


def execution(execution_id: str, **changes: Any) -> ExecutionRecord:
    values: dict[str, Any] = {
        "id": execution_id,
        "workflow_id": WORKFLOW_ID,
        "status": "running",
        "input": {"name": "world"},
        "created_at": T0,
        "app": "shop",
    }
    return ExecutionRecord(**(values | changes))


def checkpoint(execution_id: str, **changes: Any) -> Checkpoint:
    values: dict[str, Any] = {
        "execution_id": execution_id,
        "status": "running",
        "state": {"position": 0, "execution_id": execution_id},
        "updated_at": T0 + 1,
    }
    return Checkpoint(**(values | changes))


def task_run(execution_id: str, run_id: int, **changes: Any) -> TaskRunRecord:
    values: dict[str, Any] = {
        "execution_id": execution_id,
        "id": run_id,
        "parent_id": None,
        "reference": f"/do/{run_id}/step",
        "occurrence": f"/do/{run_id}/step#0",
        "name": f"step{run_id}",
        "status": "running",
        "input": {"n": run_id},
        "attempt": 1,
        "started_at": T0 + run_id,
    }
    return TaskRunRecord(**(values | changes))


def create(store: Store, execution_id: str, **changes: Any) -> ExecutionRecord:
    """Create an execution with a plain first checkpoint."""
    record = execution(execution_id, **changes)
    store.create_execution(record, checkpoint(execution_id, status=record.status))
    return record
