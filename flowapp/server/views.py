"""What the platform's views and the stores' records look like on the wire.

Plain functions from frozen dataclasses to JSON-ready dicts (the shapes ``models.py``
documents). ``flowapp execution --json`` prints these same shapes: on a local store the
CLI turns the store's records into JSON with them, so a server and a local store look
alike.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flowapp.server.platform import AppView, DeployView, LogLine, RevisionView
from flowapp.store.platform import AlertRuleRecord, TokenRecord
from flowapp.store.port import ExecutionRecord, TaskRunRecord, WorkflowRecord


def iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def traffic_json(splits: list[tuple[str, int]]) -> list[dict[str, Any]]:
    return [{"revision": revision, "percent": percent} for revision, percent in splits]


def app_json(view: AppView) -> dict[str, Any]:
    return {
        "name": view.name,
        "namespace": view.namespace,
        "resource": view.resource,
        "created_at": iso(view.created_at),
        "updated_at": iso(view.updated_at),
        "deployed_revision": view.deployed_revision,
        "traffic": traffic_json(view.traffic),
        "conditions": conditions_json(view.conditions),
        "observation": observation_json(view.observation),
    }


def status_json(view: AppView) -> dict[str, Any]:
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in view.conditions)
    return {
        "app": view.name,
        "ready": ready,
        "deployed_revision": view.deployed_revision,
        "traffic": traffic_json(view.traffic),
        "conditions": conditions_json(view.conditions),
        "observation": observation_json(view.observation),
    }


def conditions_json(conditions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The platform keeps times as epoch seconds; the API speaks ISO 8601 everywhere."""
    return [
        {**c, "last_transition_time": _moment(c.get("last_transition_time"))} for c in conditions
    ]


def observation_json(observation: dict[str, Any] | None) -> dict[str, Any] | None:
    if observation is None:
        return None
    return {**observation, "observed_at": _moment(observation.get("observed_at"))}


def _moment(value: Any) -> Any:
    """Epoch seconds as ISO 8601; anything else (already a string, or missing) as it is."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return iso(float(value))
    return value


def revision_json(view: RevisionView) -> dict[str, Any]:
    return {
        "id": view.id,
        "app": view.app,
        "number": view.number,
        "digest": view.digest,
        "status": view.status,
        "message": view.message,
        "created_at": iso(view.created_at),
    }


LISTED_LOG_CHARACTERS = 4_000  # a list shows each deploy's log tail; one deploy, all of it


def deploy_json(view: DeployView, *, log_limit: int | None = None) -> dict[str, Any]:
    """A deploy; with ``log_limit``, only the end of its log (where a failure says why)."""
    log = view.log
    truncated = log_limit is not None and len(log) > log_limit
    return {
        "id": view.id,
        "app": view.app,
        "revision": view.revision_id,
        "status": view.status,
        "message": view.message,
        "log": log[-log_limit:] if truncated and log_limit is not None else log,
        "log_truncated": truncated,
        "started_at": iso(view.started_at),
        "ended_at": iso(view.ended_at),
    }


def execution_json(
    record: ExecutionRecord,
    runs: list[TaskRunRecord] | None = None,
    *,
    task_count: int | None = None,
    tasks_next_cursor: str | None = None,
) -> dict[str, Any]:
    """An execution; with ``runs``, its task runs in the order they ran, under ``tasks``
    (all of them, or a first page: ``task_count`` and ``tasks_next_cursor`` say)."""
    data: dict[str, Any] = {
        "id": record.id,
        "app": record.app,
        "revision": record.revision,
        "status": record.status,
        "input": record.input,
        "output": record.output,
        "error": record.error,
        "started_at": iso(record.started_at),
        "ended_at": iso(record.ended_at),
        "parent_id": record.parent_id,
        "rerun_of": record.rerun_of,
    }
    if runs is not None:
        data["tasks"] = [task_run_json(run) for run in runs]
        data["task_count"] = len(runs) if task_count is None else task_count
        data["tasks_next_cursor"] = tasks_next_cursor
    return data


def task_run_json(run: TaskRunRecord) -> dict[str, Any]:
    """``id`` orders runs and pages them; ``occurrence`` is the reference with the index
    of each loop iteration it ran in (``/do/0/each[3]/do/0/charge``); ``parent_id`` is
    the run of the task around it."""
    return {
        "id": run.id,
        "parent_id": run.parent_id,
        "name": run.name,
        "reference": run.reference,
        "occurrence": run.occurrence,
        "status": run.status,
        "input": run.input,
        "output": run.output,
        "error": run.error,
        "attempt": run.attempt,
        "started_at": iso(run.started_at),
        "ended_at": iso(run.ended_at),
        "revision": run.revision,
    }


def workflow_json(record: WorkflowRecord, execution_id: str) -> dict[str, Any]:
    return {
        "execution": execution_id,
        "id": record.id,
        "namespace": record.namespace,
        "name": record.name,
        "version": record.version,
        "app": record.app,
        "revision": record.revision,
        "document": record.document,
    }


def log_json(line: LogLine) -> dict[str, Any]:
    return {
        "time": iso(line.time),
        "app": line.app,
        "function": line.function,
        "instance": line.instance,
        "stream": line.stream,
        "message": line.message,
        "execution_id": line.execution_id,
    }


def token_json(record: TokenRecord) -> dict[str, Any]:
    """Never the secret's hash: the prefix is enough to tell tokens apart."""
    return {
        "id": record.id,
        "name": record.name,
        "role": record.role,
        "prefix": record.prefix,
        "created_at": iso(record.created_at),
        "last_used_at": iso(record.last_used_at),
        "revoked_at": iso(record.revoked_at),
        "apps": list(record.apps),
    }


def alert_rule_json(record: AlertRuleRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "app": record.app,
        "name": record.name,
        "kind": record.kind,
        "threshold": record.threshold,
        "window_seconds": record.window_seconds,
        "webhook_url": record.webhook_url,
        "function": record.function,
        "enabled": record.enabled,
        "created_at": iso(record.created_at),
    }
