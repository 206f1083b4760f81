"""The hand-written OTLP encoder against the SDK's: the same request, field by field, as
the official protobuf classes decode them."""

from __future__ import annotations

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as sdk_encode
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

from flowapp.runtime.otlp import encode_spans

RESOURCE = Resource.create({"service.name": "flowapp", "deployment": "test"})
OTHER = Resource.create({"service.name": "other"})
SCOPE = InstrumentationScope("flowapp.runtime")


def _context(trace: int, span: int) -> SpanContext:
    return SpanContext(trace, span, is_remote=False, trace_flags=TraceFlags(TraceFlags.SAMPLED))


def _spans() -> list[ReadableSpan]:
    trace = 0x4BF92F3577B34DA6A3CE929D0E0E4736
    return [
        ReadableSpan(
            name="execution default.traced",
            context=_context(trace, 1),
            parent=None,
            resource=RESOURCE,
            attributes={"flowapp.app": "traced", "ratio": 0.25, "ok": True, "n": -3},
            kind=SpanKind.SERVER,
            status=Status(StatusCode.OK),
            start_time=1_700_000_000_000_000_000,
            end_time=1_700_000_000_500_000_000,
            instrumentation_scope=SCOPE,
        ),
        ReadableSpan(
            name="task wobble ünïcode",
            context=_context(trace, 0xFFFFFFFFFFFFFFFF),
            parent=_context(trace, 1),
            resource=RESOURCE,
            attributes={"flowapp.task.attempt": 2, "flowapp.task.reference": "/do/0"},
            events=[
                Event("retry", {"flowapp.task.attempt": 2}, timestamp=5),
                Event("exception", {"exception.type": "x", "exception.message": ""}, 6),
            ],
            status=Status(StatusCode.ERROR, "Warming up"),
            start_time=5,
            end_time=7,
            instrumentation_scope=SCOPE,
        ),
        ReadableSpan(
            name="elsewhere",
            context=_context(trace, 9),
            parent=_context(trace, 1),
            resource=OTHER,
            attributes={},
            status=Status(StatusCode.UNSET),
            start_time=1,
            end_time=2,
            instrumentation_scope=SCOPE,
        ),
    ]


def _decoded(data: bytes) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    request.ParseFromString(data)
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                span.ClearField("flags")  # the SDK adds the W3C flags; the engine's are fixed
    return request


def test_the_request_decodes_to_what_the_sdk_encodes() -> None:
    spans = _spans()
    ours = _decoded(encode_spans(spans))
    theirs = _decoded(sdk_encode(spans).SerializeToString())
    assert ours == theirs
    assert len(ours.resource_spans) == 2
    assert [s.name for s in ours.resource_spans[0].scope_spans[0].spans] == [
        "execution default.traced",
        "task wobble ünïcode",
    ]
