"""OpenTelemetry traces of executions: one trace per execution, one span per task run.

On only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (:meth:`Tracing.from_environment`);
otherwise the runtime holds no ``Tracing`` and does no tracing work at all.

Spans survive the durable engine's turns and restarts because none is held open: a
span is emitted once, complete, when the task run (or the execution) it describes ends,
with the start time the engine recorded for it. Its ids are derived from the execution
id and the task run id (``flowapp.functions.tracecontext``), so

- a task run's span id is known while it runs, in whichever process and turn: the
  ``traceparent`` sent to a function names it, and the function's spans are its children
  even though the task's span is exported after them;
- a parent (the execution, a ``fork`` or ``do`` task run) is named by its children
  before it ends, without any span state in the checkpoint;
- a task run that ends in another process after a crash gets the same ids there.

The alternative, spans started in one turn and ended in another, would need the open
span kept in the checkpoint and would lose it in a crash between two commits. Only the
W3C ``traceparent`` of an execution started inside someone else's trace is saved (in
the execution's state, ``ExecutionState.trace``): its trace id replaces the derived one
and its span becomes the execution span's parent.

Spans go to a bounded queue that a background thread sends to the collector with
OTLP/HTTP (encoded by ``otlp.py``): an unreachable collector never slows an execution;
spans that do not fit (or that a failed export loses) are counted in
``flowapp_trace_spans_dropped_total``, and the first failure is logged once.
Spans are emitted when a decision is made, before its commit, as the metrics are counted.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags
from prometheus_client import CollectorRegistry, Counter

from flowapp.engine.records import Decision, TaskRun
from flowapp.functions.tracecontext import (
    ENDPOINT_VARIABLE,
    execution_trace,
    span_id_of,
)
from flowapp.runtime.logcontext import effect_trace

if TYPE_CHECKING:
    from flowapp.runtime.live import LiveExecution

log = logging.getLogger(__name__)

SCOPE = InstrumentationScope("flowapp.runtime")
_FINAL = ("completed", "faulted", "cancelled")
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)


class SpanQueue:
    """A bounded queue of finished spans, sent in batches by one daemon thread."""

    def __init__(
        self,
        exporter: SpanExporter,
        *,
        capacity: int = 4096,
        batch: int = 512,
        interval: float = 1.0,
        dropped: Counter | None = None,
        exported: Counter | None = None,
    ) -> None:
        self.exporter = exporter
        self.capacity = capacity
        self.batch = batch
        self.interval = interval
        self._dropped = dropped
        self._exported = exported
        self._spans: deque[ReadableSpan] = deque()
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._stopping = False
        self._failing = False
        self._thread = threading.Thread(target=self._run, name="flowapp-spans", daemon=True)
        self._thread.start()

    def put(self, span: ReadableSpan) -> None:
        # Called on the event loop: never blocks. The length check races with the
        # sender only in the sender's favour (it shortens the queue).
        if len(self._spans) >= self.capacity:
            self._count_dropped(1)
            return
        self._spans.append(span)
        if len(self._spans) >= self.batch:
            self._wake.set()

    def flush(self, timeout: float = 5.0) -> bool:
        """Send what is queued now; False if that took longer than ``timeout``."""
        self._idle.clear()
        self._wake.set()
        return self._idle.wait(timeout)

    def close(self, timeout: float = 5.0) -> None:
        self._stopping = True
        self.flush(timeout)
        self._wake.set()
        self._thread.join(timeout)
        self.exporter.shutdown()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            while self._spans:
                batch = [self._spans.popleft() for _ in range(min(self.batch, len(self._spans)))]
                self._send(batch)
            self._idle.set()
            if self._stopping:
                return

    def _send(self, batch: Sequence[ReadableSpan]) -> None:
        try:
            result = self.exporter.export(batch)
        except Exception:  # an exporter bug must not end the thread
            log.exception("exporting %d spans failed", len(batch))
            result = SpanExportResult.FAILURE
        if result is SpanExportResult.SUCCESS:
            if self._exported is not None:
                self._exported.inc(len(batch))
            if self._failing:
                log.warning("the trace collector takes spans again")
                self._failing = False
        else:
            self._count_dropped(len(batch))
            if not self._failing:  # once, not at every batch: the counter says how many
                log.warning(
                    "the trace collector does not take spans; they are dropped until it "
                    "does (flowapp_trace_spans_dropped_total)"
                )
                self._failing = True

    def _count_dropped(self, count: int) -> None:
        if self._dropped is not None:
            self._dropped.inc(count)


class Tracing:
    """Turns decisions into spans and names the span a task run's effects run under."""

    def __init__(
        self,
        exporter: SpanExporter,
        *,
        registry: CollectorRegistry | None = None,
        resource: Resource | None = None,
        capacity: int = 4096,
        interval: float = 1.0,
    ) -> None:
        self.resource = resource or Resource.create({"service.name": "flowapp"})
        dropped = exported = None
        if registry is not None:
            dropped = Counter(
                "flowapp_trace_spans_dropped",
                "Spans not exported: the queue was full or the collector did not take them.",
                registry=registry,
            )
            exported = Counter(
                "flowapp_trace_spans_exported",
                "Spans the OTLP collector accepted.",
                registry=registry,
            )
        self.queue = SpanQueue(
            exporter, capacity=capacity, interval=interval, dropped=dropped, exported=exported
        )

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] | None = None, *, registry: CollectorRegistry | None = None
    ) -> Tracing | None:
        """Exporting to ``OTEL_EXPORTER_OTLP_ENDPOINT`` (and the other standard ``OTEL_*``
        variables the OTLP/HTTP exporter reads); None when it is not set."""
        environ = os.environ if environ is None else environ
        if not environ.get(ENDPOINT_VARIABLE, "").strip():
            return None
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        service = environ.get("OTEL_SERVICE_NAME") or "flowapp"
        return cls(
            OTLPSpanExporter(),
            registry=registry,
            resource=Resource.create({"service.name": service}),
        )

    def close(self, timeout: float = 5.0) -> None:
        self.queue.close(timeout)

    # --- trace context ---------------------------------------------------------------------

    @staticmethod
    def traceparent(live: LiveExecution, effect_id: str) -> str | None:
        """What the effect ``effect_id`` carries: the span of the task run waiting for it."""
        return effect_trace(live.state, effect_id)[0]

    # --- spans -----------------------------------------------------------------------------

    def observe(self, live: LiveExecution, decision: Decision) -> None:
        """The spans of the task runs (and the execution) that ended in ``decision``."""
        state = decision.state
        execution_id = state.execution_id
        trace_id, inbound_parent = execution_trace(execution_id, state.trace)
        common = self._common(live)
        for run in decision.task_runs:
            if run.ended_at is not None:
                self.queue.put(self._task_span(execution_id, trace_id, run, common))
        for transition in decision.transitions:
            if transition.status in _FINAL:
                span = self._execution_span(
                    live, trace_id, inbound_parent, transition.status, transition.at, common
                )
                self.queue.put(span)

    def _common(self, live: LiveExecution) -> dict[str, Any]:
        workflow = live.workflow
        document = workflow.model.document
        return {
            "flowapp.app": workflow.app or "",
            "flowapp.revision": workflow.revision or "",
            "flowapp.workflow": f"{document.namespace}.{document.name}",
            "flowapp.execution.id": live.id,
        }

    def _task_span(
        self, execution_id: str, trace_id: int, run: TaskRun, common: dict[str, Any]
    ) -> ReadableSpan:
        parent_span = span_id_of(execution_id, run.parent_id)  # None: the execution's
        start, end = _ns(run.started_at), _ns(run.ended_at or run.started_at)
        events = []
        if run.retried:
            events.append(Event("retry", {"flowapp.task.attempt": run.attempt}, timestamp=start))
        status = Status(StatusCode.OK)
        if run.status == "faulted":
            events.append(_error_event(run.error, end))
            status = Status(StatusCode.ERROR, _title(run.error))
        attributes = common | {
            "flowapp.task.reference": run.reference,
            "flowapp.task.name": run.name,
            "flowapp.task.attempt": run.attempt,
            "flowapp.task.status": run.status,
            "flowapp.task.run": run.id,
        }
        return ReadableSpan(
            name=f"task {run.name}",
            context=_context(trace_id, span_id_of(execution_id, run.id)),
            parent=_context(trace_id, parent_span),
            resource=self.resource,
            attributes=attributes,
            events=events,
            kind=SpanKind.INTERNAL,
            status=status,
            start_time=start,
            end_time=end,
            instrumentation_scope=SCOPE,
        )

    def _execution_span(
        self,
        live: LiveExecution,
        trace_id: int,
        parent: int | None,
        status: str,
        at: float,
        common: dict[str, Any],
    ) -> ReadableSpan:
        state = live.state
        events = []
        span_status = Status(StatusCode.OK)
        if status == "faulted":
            events.append(_error_event(state.error, _ns(at)))
            span_status = Status(StatusCode.ERROR, _title(state.error))
        return ReadableSpan(
            name=f"execution {common['flowapp.workflow']}",
            context=_context(trace_id, span_id_of(live.id)),
            parent=_context(trace_id, parent, remote=True) if parent is not None else None,
            resource=self.resource,
            attributes=common | {"flowapp.execution.status": status},
            events=events,
            kind=SpanKind.SERVER if parent is not None else SpanKind.INTERNAL,
            status=span_status,
            start_time=_ns(state.started_at or at),
            end_time=_ns(at),
            instrumentation_scope=SCOPE,
        )


def _context(trace_id: int, span_id: int, *, remote: bool = False) -> SpanContext:
    return SpanContext(trace_id, span_id, is_remote=remote, trace_flags=_SAMPLED)


def _ns(seconds: float) -> int:
    return int(seconds * 1_000_000_000)


def _title(error: dict[str, Any] | None) -> str:
    if not error:
        return "faulted"
    return str(error.get("title") or error.get("type") or "faulted")


def _error_event(error: dict[str, Any] | None, at: int) -> Event:
    error = error or {}
    attributes: dict[str, Any] = {
        "exception.type": str(error.get("type") or "error"),
        "exception.message": str(error.get("detail") or error.get("title") or ""),
    }
    if isinstance(error.get("status"), int):
        attributes["flowapp.error.status"] = error["status"]
    return Event("exception", attributes, timestamp=at)
