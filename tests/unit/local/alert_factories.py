"""Builders for the alert and syncer tests: rules, and executions that ended one way
or another, written through the store port (``create_execution`` with a first checkpoint
that carries the times), so the same builders serve the memory and SQLite stores."""

from __future__ import annotations

from typing import Any

from flowapp.store import Checkpoint, ExecutionRecord, Store, WorkflowRecord
from flowapp.store.platform import AlertRuleRecord, AlertRuleSpec, PlatformStore

T0 = 1_700_000_000.0
WORKFLOW_ID = "wf-alerts"


def resource(name: str = "shop") -> dict[str, Any]:
    return {
        "apiVersion": "flowapp.dev/v1alpha1",
        "kind": "FlowApp",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"functions": {"charge": {"runtime": "python"}}},
    }


def make_app(platform: PlatformStore, name: str = "shop", now: float = T0) -> None:
    platform.create_app(name, namespace="default", resource=resource(name), now=now)


def make_rule(platform: PlatformStore, app: str = "shop", **changes: Any) -> AlertRuleRecord:
    values: dict[str, Any] = {
        "app": app,
        "name": "too-many-failures",
        "kind": "failed_executions",
        "threshold": 2.0,
        "window_seconds": 60.0,
        "webhook_url": "http://127.0.0.1:9/hook",
    }
    return platform.create_alert_rule(AlertRuleSpec(**(values | changes)), now=T0)


def rule_record(**changes: Any) -> AlertRuleRecord:
    """A rule that was never stored, for the pure functions."""
    values: dict[str, Any] = {
        "id": 7,
        "app": "shop",
        "name": "too-many-failures",
        "kind": "failed_executions",
        "threshold": 2.0,
        "window_seconds": 60.0,
        "webhook_url": "http://127.0.0.1:9/hook",
        "created_at": T0,
    }
    return AlertRuleRecord(**(values | changes))


def save_workflow(store: Store) -> None:
    document = {"document": {"dsl": "1.0.0", "name": "pay"}, "do": [{"a": {"set": {}}}]}
    store.save_workflow(
        WorkflowRecord(WORKFLOW_ID, "default", "pay", "1.0.0", document, app="shop")
    )


def execution(
    store: Store,
    execution_id: str,
    *,
    status: str = "faulted",
    created_at: float = T0,
    started_at: float | None = None,
    ended_at: float | None = None,
    app: str = "shop",
) -> None:
    """An execution of ``app`` as it stands after its last checkpoint."""
    record = ExecutionRecord(
        execution_id, WORKFLOW_ID, status, input={}, created_at=created_at, app=app
    )
    checkpoint = Checkpoint(
        execution_id,
        status=status,
        state=None,
        updated_at=ended_at or started_at or created_at,
        started_at=started_at,
        ended_at=ended_at,
        error={"type": "https://serverlessworkflow.io/spec/1.0.0/errors/runtime", "status": 500}
        if status == "faulted"
        else None,
    )
    store.create_execution(record, checkpoint)
