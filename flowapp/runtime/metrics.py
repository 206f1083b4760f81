"""Workflow and task metrics in Prometheus form, fed by the runtime's decisions.

Label sets stay bounded: app, workflow (namespace.name) and, for tasks, the task's
reference (a JSON pointer into the definition, so finite), never execution ids.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from flowapp.engine.records import Decision
from flowapp.runtime.registry import LoadedWorkflow

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
_FINAL = frozenset({"completed", "faulted", "cancelled"})


class RuntimeMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ("app", "workflow")
        self.started = Counter(
            "flowapp_executions_started_total", "Executions started.", labels, registry=registry
        )
        self.finished = Counter(
            "flowapp_executions_finished_total",
            "Executions that ended, by final status.",
            (*labels, "status"),
            registry=registry,
        )
        self.duration = Histogram(
            "flowapp_execution_duration_seconds",
            "Time from start to end of executions.",
            labels,
            buckets=_BUCKETS,
            registry=registry,
        )
        self.task_runs = Counter(
            "flowapp_task_runs_total",
            "Task runs that ended, by status.",
            (*labels, "task", "status"),
            registry=registry,
        )
        self.task_duration = Histogram(
            "flowapp_task_duration_seconds",
            "Duration of task runs that ended.",
            (*labels, "task"),
            buckets=_BUCKETS,
            registry=registry,
        )

    def observe(self, workflow: LoadedWorkflow, decision: Decision) -> None:
        app = workflow.app or ""
        name = f"{workflow.model.document.namespace}.{workflow.model.document.name}"
        for transition in decision.transitions:
            if transition.status == "running" and decision.state.started_at == transition.at:
                self.started.labels(app, name).inc()
            elif transition.status in _FINAL:
                self.finished.labels(app, name, transition.status).inc()
                self.duration.labels(app, name).observe(transition.at - decision.state.started_at)
        for run in decision.task_runs:
            if run.ended_at is None:
                continue
            self.task_runs.labels(app, name, run.reference, run.status).inc()
            self.task_duration.labels(app, name, run.reference).observe(
                run.ended_at - run.started_at
            )
