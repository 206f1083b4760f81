"""The Python host's spans: each call of ``handle`` a span under the calling task's span.

On only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set in the function's environment (the
supervisor passes the engine's ``OTEL_EXPORTER_OTLP_*`` variables on); OpenTelemetry is
not even imported otherwise. The call's CloudEvent carries the task run's
``traceparent`` (``tracecontext.py``): the host's span is its child and is the current
span while ``handle`` runs (in the event loop or its worker thread), so spans the
author starts with ``opentelemetry.trace.get_tracer(__name__)`` nest under it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags
from opentelemetry.trace.status import Status, StatusCode

from flowapp.functions.sdk import ATTEMPT_ATTRIBUTE, EXECUTION_ATTRIBUTE, TASK_ATTRIBUTE
from flowapp.functions.tracecontext import ATTRIBUTE, parse_traceparent


class HostTracing:
    def __init__(self, *, function: str, app: str, environ: Mapping[str, str]) -> None:
        self.function = function
        service = environ.get("OTEL_SERVICE_NAME") or f"{app}.{function}"
        resource = Resource.create(
            {"service.name": service, "faas.name": function, "flowapp.app": app}
        )
        self.provider = TracerProvider(resource=resource)
        # A short delay: a function's spans reach the collector about when the engine's do.
        processor = BatchSpanProcessor(OTLPSpanExporter(), schedule_delay_millis=1000)
        self.provider.add_span_processor(processor)
        # Global, so the author's ``trace.get_tracer(...)`` records into the same provider.
        trace.set_tracer_provider(self.provider)
        self.tracer = self.provider.get_tracer("flowapp.functions.host")

    @contextlib.contextmanager
    def call(self, attributes: Mapping[str, Any]) -> Iterator[trace.Span]:
        """The span of one call, current while the body runs; records an escaping error."""
        parent = parse_traceparent(_text(attributes.get(ATTRIBUTE)))
        context = None
        if parent is not None:
            remote = SpanContext(
                parent.trace_id,
                parent.span_id,
                is_remote=True,
                trace_flags=TraceFlags(TraceFlags.SAMPLED if parent.sampled else 0),
            )
            context = trace.set_span_in_context(NonRecordingSpan(remote))
        span_attributes = {
            "faas.name": self.function,
            "faas.invocation_id": _text(attributes.get("id")) or "",
            "flowapp.execution.id": _text(attributes.get(EXECUTION_ATTRIBUTE)) or "",
            "flowapp.task.reference": _text(attributes.get(TASK_ATTRIBUTE)) or "",
            "flowapp.task.attempt": _text(attributes.get(ATTEMPT_ATTRIBUTE)) or "1",
        }
        with self.tracer.start_as_current_span(
            f"function {self.function}",
            context=context,
            kind=SpanKind.SERVER,
            attributes=span_attributes,
        ) as span:
            yield span

    @staticmethod
    def failed(span: trace.Span, status: int, message: str) -> None:
        span.set_attribute("http.response.status_code", status)
        span.set_status(Status(StatusCode.ERROR, message))

    def shutdown(self) -> None:
        self.provider.shutdown()  # exports what is left


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
