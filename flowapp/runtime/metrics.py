"""Workflow, task and engine metrics in Prometheus form, fed by the runtime.

Label sets stay bounded: app, revision (an app's few most recently used ones, see
``flowapp.functions.series``), workflow (namespace.name) and, for tasks, the task's
reference (a JSON pointer into the definition, so finite; past ``max_tasks`` references
of one workflow the rest count as ``other``), never execution ids.

Series:

- executions: ``flowapp_executions_started_total``, ``flowapp_executions_finished_total``
  (``status``), ``flowapp_execution_duration_seconds``, all ``{app,revision,workflow}``;
  ``flowapp_executions_active{app}``: held in memory by this engine process now;
- tasks: ``flowapp_task_runs_total{...,task,status}``,
  ``flowapp_task_duration_seconds{...,task}``;
- the engine: ``flowapp_engine_step_duration_seconds{app}`` (one turn: decide, then
  commit durably), ``flowapp_store_commit_duration_seconds`` and
  ``flowapp_store_commit_checkpoints`` (one group commit: how long, how many
  checkpoints), ``flowapp_engine_timers`` (armed here),
  ``flowapp_engine_timer_lateness_seconds`` (fired after their due time by),
  ``flowapp_engine_outbox_backlog`` (fire-and-forget commands committed and not yet
  carried out, as the relay last saw them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from flowapp.engine.records import Decision
from flowapp.functions.series import RevisionSeries
from flowapp.runtime.live import LiveExecution
from flowapp.runtime.registry import LoadedWorkflow

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
_STEP_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
_FINAL = ("completed", "faulted", "cancelled")
MAX_TASKS = 200
OTHER_TASK = "other"
_WORKFLOW = ("app", "revision", "workflow")


class RuntimeMetrics:
    def __init__(self, registry: CollectorRegistry, *, max_tasks: int = MAX_TASKS) -> None:
        self.registry = registry
        self.series = RevisionSeries()
        self.max_tasks = max_tasks
        self._tasks: dict[tuple[str, str], set[str]] = {}  # (app, workflow) -> references
        self.started = Counter(
            "flowapp_executions_started", "Executions started.", _WORKFLOW, registry=registry
        )
        self.finished = Counter(
            "flowapp_executions_finished",
            "Executions that ended, by final status.",
            (*_WORKFLOW, "status"),
            registry=registry,
        )
        self.duration = Histogram(
            "flowapp_execution_duration_seconds",
            "Time from start to end of executions.",
            _WORKFLOW,
            buckets=_BUCKETS,
            registry=registry,
        )
        self.task_runs = Counter(
            "flowapp_task_runs",
            "Task runs that ended, by status.",
            (*_WORKFLOW, "task", "status"),
            registry=registry,
        )
        self.task_duration = Histogram(
            "flowapp_task_duration_seconds",
            "Duration of task runs that ended.",
            (*_WORKFLOW, "task"),
            buckets=_BUCKETS,
            registry=registry,
        )
        self.step = Histogram(
            "flowapp_engine_step_duration_seconds",
            "One turn of an execution: its signals decided and the result committed durably.",
            ("app",),
            buckets=_STEP_BUCKETS,
            registry=registry,
        )
        self.commit = Histogram(
            "flowapp_store_commit_duration_seconds",
            "One group commit: the transaction writing the checkpoints of many executions.",
            buckets=_STEP_BUCKETS,
            registry=registry,
        )
        self.batch = Histogram(
            "flowapp_store_commit_checkpoints",
            "Checkpoints written by one group commit.",
            buckets=_BATCH_BUCKETS,
            registry=registry,
        )
        self.lateness = Histogram(
            "flowapp_engine_timer_lateness_seconds",
            "How long after their due time timers fired (a busy or stalled event loop).",
            buckets=_STEP_BUCKETS,
            registry=registry,
        )
        self.outbox = Gauge(
            "flowapp_engine_outbox_backlog",
            "Fire-and-forget commands (emitted events ...) committed and not yet carried out.",
            registry=registry,
        )
        self._held = _Held()
        registry.register(self._held)

    # --- fed by the runtime ---------------------------------------------------------------

    def watch(self, live: Callable[[], Iterable[LiveExecution]], timers: Callable[[], int]) -> None:
        """Read at each scrape: the executions held here, the timers armed here."""
        self._held.live = live
        self._held.timers = timers

    def observe(self, workflow: LoadedWorkflow, decision: Decision) -> None:
        """Executions started and ended, task runs ended, in one decision."""
        labels = self._labels(workflow)
        state = decision.state
        for transition in decision.transitions:
            if transition.status == "running" and state.started_at == transition.at:
                self.series.child(self.started, labels).inc()
                self._held.apps.add(labels[0])
                # Every final status shows 0 until it happens: Prometheus's ``increase``
                # then counts a workflow's first failure too.
                for status in _FINAL:
                    self.series.child(self.finished, (*labels, status))
            elif transition.status in _FINAL:
                self.series.child(self.finished, (*labels, transition.status)).inc()
                self.series.child(self.duration, labels).observe(transition.at - state.started_at)
        for run in decision.task_runs:
            if run.ended_at is None:
                continue
            task = self._task(labels, run.reference)
            self.series.child(self.task_runs, (*labels, task, run.status)).inc()
            self.series.child(self.task_duration, (*labels, task)).observe(
                run.ended_at - run.started_at
            )

    def stepped(self, workflow: LoadedWorkflow, seconds: float) -> None:
        self.step.labels(workflow.app or "").observe(seconds)

    def committed(self, checkpoints: int, seconds: float) -> None:
        self.commit.observe(seconds)
        self.batch.observe(checkpoints)

    def timer_fired(self, late: float) -> None:
        self.lateness.observe(max(0.0, late))

    def outbox_backlog(self, pending: int) -> None:
        self.outbox.set(pending)

    # --- labels ---------------------------------------------------------------------------

    def _labels(self, workflow: LoadedWorkflow) -> tuple[str, str, str]:
        document = workflow.model.document
        name = f"{document.namespace}.{document.name}"
        return (workflow.app or "", workflow.revision or "", name)

    def _task(self, labels: tuple[str, str, str], reference: str) -> str:
        known = self._tasks.setdefault((labels[0], labels[2]), set())
        if reference in known:
            return reference
        if len(known) >= self.max_tasks:
            return OTHER_TASK
        known.add(reference)
        return reference


class _Held(Collector):
    """Gauges read from the runtime at each scrape (from the server's worker thread)."""

    def __init__(self) -> None:
        self.live: Callable[[], Iterable[LiveExecution]] | None = None
        self.timers: Callable[[], int] | None = None
        # Apps that held executions here once show 0 when they hold none, rather than
        # no series at all (apps are few: this stays small).
        self.apps: set[str] = set()

    def collect(self) -> Iterator[Any]:
        active = GaugeMetricFamily(
            "flowapp_executions_active",
            "Executions held in memory by this engine process (running or waiting).",
            labels=["app"],
        )
        timers = GaugeMetricFamily(
            "flowapp_engine_timers", "Timers armed in this engine process (waits, timeouts)."
        )
        counts = dict.fromkeys(self.apps, 0)  # copied in C: no other thread runs meanwhile
        if self.live is not None:
            for live in list(self.live()):  # a copy: the event loop's thread changes it
                app = live.workflow.app or ""
                counts[app] = counts.get(app, 0) + 1
        for app, count in sorted(counts.items()):
            active.add_metric([app], count)
        timers.add_metric([], self.timers() if self.timers is not None else 0)
        yield active
        yield timers
