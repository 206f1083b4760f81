"""Records to rows and back: the only place that knows both shapes.

Column names equal the record fields, so a row becomes a record by keyword; the few
exceptions (a workflow's ``functions`` tuple stored as a JSON list, the execution
``state`` that no record carries) are spelled out here.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

import sqlalchemy as sa

from flowapp.store.plan import ExecutionPatch, OutboxEntry
from flowapp.store.port import (
    ExecutionRecord,
    SubscriptionRecord,
    TaskRunRecord,
    TimerRecord,
    WorkflowRecord,
)
from flowapp.store.rules import subscription_event_type
from flowapp.store.sql.tables import executions, task_runs

EXECUTION_COLUMNS = [executions.c[f.name] for f in fields(ExecutionRecord)]
TASK_RUN_COLUMNS = [task_runs.c[f.name] for f in fields(TaskRunRecord)]


def workflow_row(record: WorkflowRecord) -> dict[str, Any]:
    row = asdict(record)
    row["functions"] = list(record.functions)
    return row


def workflow_record(row: sa.Row[Any]) -> WorkflowRecord:
    values = dict(row._mapping)
    values["functions"] = tuple(values["functions"] or ())
    return WorkflowRecord(**values)


def execution_row(record: ExecutionRecord) -> dict[str, Any]:
    # Not asdict(): it deep-copies input/output, which the driver serialises anyway.
    return {f.name: getattr(record, f.name) for f in fields(ExecutionRecord)}


def execution_record(row: sa.Row[Any]) -> ExecutionRecord:
    return ExecutionRecord(**row._mapping)


def patch_params(patch: ExecutionPatch) -> dict[str, Any]:
    """Bind parameters of the bulk execution update (``p_`` avoids the column names,
    which SQLAlchemy reserves for the SET clause)."""
    return {
        "p_id": patch.id,
        "p_status": patch.status,
        "p_updated_at": patch.updated_at,
        "p_state": patch.state,
        "p_started_at": patch.started_at,
        "p_output": patch.output,
        "p_error": patch.error,
        "p_ended_at": patch.ended_at,
        "p_workflow_id": patch.workflow_id,
        "p_revision": patch.revision,
    }


_TASK_RUN_FIELDS = tuple(f.name for f in fields(TaskRunRecord))


def task_run_row(run: TaskRunRecord) -> dict[str, Any]:
    return {name: getattr(run, name) for name in _TASK_RUN_FIELDS}


def task_run_record(row: sa.Row[Any]) -> TaskRunRecord:
    # Zipped with the names TASK_RUN_COLUMNS were selected in: a page of task runs reads
    # hundreds of rows, and ``row._mapping`` costs several times as much per row.
    return TaskRunRecord(**dict(zip(_TASK_RUN_FIELDS, row, strict=True)))


def timer_row(timer: TimerRecord) -> dict[str, Any]:
    return {
        "execution_id": timer.execution_id,
        "effect_id": timer.effect_id,
        "due_at": timer.due_at,
    }


def subscription_row(sub: SubscriptionRecord) -> dict[str, Any]:
    return {
        "execution_id": sub.execution_id,
        "effect_id": sub.effect_id,
        "attributes": sub.attributes,
        "event_type": subscription_event_type(sub.attributes),
    }


def effect_key_params(key: tuple[str, str]) -> dict[str, Any]:
    return {"p_execution_id": key[0], "p_effect_id": key[1]}


def outbox_row(entry: OutboxEntry) -> dict[str, Any]:
    return {
        "execution_id": entry.execution_id,
        "payload": entry.payload,
        "created_at": entry.created_at,
    }
