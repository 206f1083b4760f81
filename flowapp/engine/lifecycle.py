"""The spec's lifecycle events, as CloudEvents, derived from what a decision reports.

Nothing extra is computed while deciding: workflow events come from the status
transitions, task events from the task runs that began or ended. Runtimes that nobody
listens to never pay for building them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from flowapp.dsl.model import Workflow
from flowapp.engine.records import Decision, TaskRun

PREFIX = "io.serverlessworkflow."
_NAMESPACE = uuid.UUID("b0c3b1de-5f3e-4b8e-9a57-1b7f7d0a6c31")
_WORKFLOW_EVENTS = {
    "suspended": ("suspended", "suspendedAt"),
    "cancelled": ("cancelled", "cancelledAt"),
    "faulted": ("faulted", "faultedAt"),
    "completed": ("completed", "completedAt"),
}
_TASK_EVENTS = {
    "completed": ("completed", "completedAt"),
    "faulted": ("faulted", "faultedAt"),
    "cancelled": ("cancelled", "cancelledAt"),
}


def _iso(epoch: float) -> str:
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def qualified_name(workflow: Workflow, execution_id: str) -> str:
    return f"{workflow.document.name}-{execution_id}.{workflow.document.namespace}"


class _Builder:
    def __init__(self, workflow: Workflow, execution_id: str, source: str) -> None:
        self.name = qualified_name(workflow, execution_id)
        self.workflow = workflow
        self.execution_id = execution_id
        self.source = source
        self.events: list[dict[str, Any]] = []

    def add(self, kind: str, at: float, data: dict[str, Any], key: str) -> None:
        event_id = uuid.uuid5(_NAMESPACE, f"{self.execution_id}/{key}/{kind}")
        self.events.append(
            {
                "specversion": "1.0",
                "id": str(event_id),
                "source": self.source,
                "type": f"{PREFIX}{kind}.v1",
                "time": _iso(at),
                "subject": self.execution_id,
                "datacontenttype": "application/json",
                "data": data,
            }
        )

    def workflow_transition(
        self, status: str, previous: str | None, at: float, decision: Decision
    ) -> None:
        state = decision.state
        key = f"w{at}{status}"
        if status == "running" and previous in (None, "pending"):
            document = self.workflow.document
            reference = {
                "name": document.name,
                "namespace": document.namespace,
                "version": document.version,
            }
            self.add(
                "workflow.started",
                at,
                {"name": self.name, "definition": reference, "startedAt": _iso(at)},
                key,
            )
        elif status == "running" and previous == "suspended":
            self.add("workflow.resumed", at, {"name": self.name, "resumedAt": _iso(at)}, key)
        elif status in _WORKFLOW_EVENTS:
            kind, field = _WORKFLOW_EVENTS[status]
            data: dict[str, Any] = {"name": self.name, field: _iso(at)}
            if status == "faulted":
                data["error"] = state.error
            if status == "completed":
                data["output"] = state.output
            self.add(f"workflow.{kind}", at, data, key)
        self.add(
            "workflow.status-changed",
            at,
            {"name": self.name, "updatedAt": _iso(at), "status": status},
            key,
        )

    def task_run(self, run: TaskRun) -> None:
        base: dict[str, Any] = {"workflow": self.name, "task": run.reference}
        key = f"t{run.id}"
        if run.began:
            self.add(
                "task.created", run.started_at, {**base, "createdAt": _iso(run.started_at)}, key
            )
            if run.retried:
                self.add(
                    "task.retried", run.started_at, {**base, "retriedAt": _iso(run.started_at)}, key
                )
            self.add(
                "task.started", run.started_at, {**base, "startedAt": _iso(run.started_at)}, key
            )
        if run.status in _TASK_EVENTS and run.ended_at is not None:
            kind, field = _TASK_EVENTS[run.status]
            data: dict[str, Any] = {**base, field: _iso(run.ended_at)}
            if run.status == "faulted":
                data["error"] = run.error
            if run.status == "completed":
                data["output"] = run.output
            self.add(f"task.{kind}", run.ended_at, data, key)


def lifecycle_events(
    workflow: Workflow, decision: Decision, *, previous_status: str | None, source: str = "/flowapp"
) -> list[dict[str, Any]]:
    """The lifecycle CloudEvents of one decision, in the order things happened."""
    builder = _Builder(workflow, decision.state.execution_id, source)
    previous = previous_status
    closing = []
    for transition in decision.transitions:
        if transition.status in _WORKFLOW_EVENTS and transition.status != "suspended":
            closing.append((transition, previous))
        else:
            builder.workflow_transition(transition.status, previous, transition.at, decision)
        previous = transition.status
    for run in sorted(decision.task_runs, key=lambda r: r.id):
        builder.task_run(run)
    for transition, before in closing:
        builder.workflow_transition(transition.status, before, transition.at, decision)
    return builder.events
