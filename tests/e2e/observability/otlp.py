"""A small OTLP/HTTP trace receiver for tests: decodes the export requests posted to
``/v1/traces`` on 127.0.0.1, protobuf (the Python exporter) or JSON (the Node.js host),
and keeps their spans."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue


@dataclass(frozen=True)
class ReceivedSpan:
    trace_id: str
    span_id: str
    parent_id: str
    name: str
    service: str
    attributes: dict[str, Any]
    events: list[tuple[str, dict[str, Any]]]
    status: int  # 0 unset, 1 ok, 2 error
    start: int
    end: int


@dataclass
class Receiver:
    url: str = ""
    spans: list[ReceivedSpan] = field(default_factory=list)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def snapshot(self) -> list[ReceivedSpan]:
        with self.lock:
            return list(self.spans)

    def wait_for(
        self, check: Callable[[list[ReceivedSpan]], bool], *, timeout: float = 30.0
    ) -> list[ReceivedSpan]:
        deadline = time.monotonic() + timeout
        while True:
            spans = self.snapshot()
            if check(spans):
                return spans
            if time.monotonic() > deadline:
                names = sorted(f"{s.service}:{s.name}" for s in spans)
                raise AssertionError(f"the spans never arrived; received: {names}")
            time.sleep(0.2)


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


def _attributes(pairs: Any) -> dict[str, Any]:
    return {pair.key: _value(pair.value) for pair in pairs}


def decode(body: bytes) -> list[ReceivedSpan]:
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    spans = []
    for resource_spans in request.resource_spans:
        service = str(_attributes(resource_spans.resource.attributes).get("service.name"))
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    ReceivedSpan(
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_id=span.parent_span_id.hex(),
                        name=span.name,
                        service=service,
                        attributes=_attributes(span.attributes),
                        events=[(e.name, _attributes(e.attributes)) for e in span.events],
                        status=span.status.code,
                        start=span.start_time_unix_nano,
                        end=span.end_time_unix_nano,
                    )
                )
    return spans


def _json_value(value: dict[str, Any]) -> Any:
    (kind, item), *_ = value.items()
    return int(item) if kind == "intValue" else item


def _json_attributes(pairs: list[dict[str, Any]]) -> dict[str, Any]:
    return {pair["key"]: _json_value(pair["value"]) for pair in pairs or ()}


def decode_json(body: bytes) -> list[ReceivedSpan]:
    """OTLP/JSON: ids are hex strings, times decimal strings (the OTLP JSON mapping)."""
    spans = []
    for resource_spans in json.loads(body)["resourceSpans"]:
        resource = _json_attributes(resource_spans.get("resource", {}).get("attributes"))
        for scope_spans in resource_spans["scopeSpans"]:
            for span in scope_spans["spans"]:
                spans.append(
                    ReceivedSpan(
                        trace_id=span["traceId"],
                        span_id=span["spanId"],
                        parent_id=span.get("parentSpanId", ""),
                        name=span["name"],
                        service=str(resource.get("service.name")),
                        attributes=_json_attributes(span.get("attributes")),
                        events=[
                            (e["name"], _json_attributes(e.get("attributes")))
                            for e in span.get("events", ())
                        ],
                        status=int(span.get("status", {}).get("code", 0)),
                        start=int(span["startTimeUnixNano"]),
                        end=int(span["endTimeUnixNano"]),
                    )
                )
    return spans


@contextlib.contextmanager
def otlp_receiver() -> Iterator[Receiver]:
    received = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            media = self.headers["content-type"] or ""
            if self.path != "/v1/traces" or not ("protobuf" in media or "json" in media):
                self.send_response(404)
                self.end_headers()
                return
            spans = decode(body) if "protobuf" in media else decode_json(body)
            with received.lock:
                received.spans.extend(spans)
                received.requests += 1
            reply = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    received.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()
