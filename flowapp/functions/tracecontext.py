"""W3C trace context as flowapp carries it: the ``traceparent`` of the work in progress.

A function call carries the ``traceparent`` CloudEvent extension attribute (the
CloudEvents distributed tracing extension, ``ce-traceparent`` in binary mode) naming the
span of the task run that makes the call, so the function's own spans join the
execution's trace. The runtime sets :data:`CURRENT` in the asyncio task that carries out
an effect; the HTTP API sets it from an inbound request's ``traceparent`` header, so an
execution started by that request continues the caller's trace.

Span and trace ids are derived from execution and task run ids (:func:`trace_id_of`,
:func:`span_id_of`): a span is known by its id before it is exported, from any process
and any turn of the durable engine (see ``flowapp.runtime.tracing``).

Nothing here imports OpenTelemetry: this module is loaded by every function process.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Final, NamedTuple

ATTRIBUTE: Final = "traceparent"  # the CloudEvent extension attribute and the HTTP header
ENDPOINT_VARIABLE: Final = "OTEL_EXPORTER_OTLP_ENDPOINT"

# The trace context of the work this asyncio task (or thread, through copy_context) does.
CURRENT: ContextVar[str | None] = ContextVar("flowapp_traceparent", default=None)

# version-traceid-parentid-flags; a version other than 00 may append fields (W3C 3.3).
_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")
_SAMPLED = 0x01


class TraceParent(NamedTuple):
    trace_id: int
    span_id: int
    sampled: bool = True

    def header(self) -> str:
        return format_traceparent(self.trace_id, self.span_id, sampled=self.sampled)


def tracing_configured(environ: Mapping[str, str]) -> bool:
    """Whether traces are exported: ``OTEL_EXPORTER_OTLP_ENDPOINT`` names a collector."""
    return bool(environ.get(ENDPOINT_VARIABLE, "").strip())


def parse_traceparent(value: str | None) -> TraceParent | None:
    """The trace context in a ``traceparent`` value; None for anything invalid (the W3C
    rule: an invalid header is ignored and a new trace starts)."""
    if not value or len(value) > 512:
        return None
    match = _TRACEPARENT.match(value.strip())
    if match is None:
        return None
    version, trace, span, flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest):
        return None
    trace_id, span_id = int(trace, 16), int(span, 16)
    if trace_id == 0 or span_id == 0:
        return None
    return TraceParent(trace_id, span_id, bool(int(flags, 16) & _SAMPLED))


def inbound_traceparent(value: str | None) -> str | None:
    """A caller's ``traceparent`` as an execution keeps it (normalised), None if invalid."""
    parsed = parse_traceparent(value)
    return parsed.header() if parsed is not None else None


def format_traceparent(trace_id: int, span_id: int, *, sampled: bool = True) -> str:
    return f"00-{trace_id:032x}-{span_id:016x}-{'01' if sampled else '00'}"


def trace_id_of(execution_id: str) -> int:
    """The trace id of an execution that was not started inside someone else's trace."""
    return _digest(b"trace\0" + execution_id.encode(), 16)


def span_id_of(execution_id: str, task_run: int | None = None) -> int:
    """The span id of an execution (``task_run`` None) or of one of its task runs."""
    key = execution_id if task_run is None else f"{execution_id}\0{task_run}"
    return _digest(b"span\0" + key.encode(), 8)


def _digest(data: bytes, size: int) -> int:
    value = int.from_bytes(hashlib.blake2b(data, digest_size=size).digest(), "big")
    return value or 1  # an all-zero id is invalid; one in 2**64 would be


@functools.lru_cache(maxsize=4096)  # asked at every decision and effect of an execution
def execution_trace(execution_id: str, inbound: str | None) -> tuple[int, int | None]:
    """``(trace_id, parent span id)`` of an execution: the caller's trace and span when it
    was started inside one (``inbound``, its saved ``traceparent``), else its own trace."""
    parent = parse_traceparent(inbound)
    if parent is None:
        return trace_id_of(execution_id), None
    return parent.trace_id, parent.span_id


def task_traceparent(execution_id: str, inbound: str | None, task_run: int) -> str:
    """The ``traceparent`` a task run's effects carry: its own span in its execution's trace."""
    trace_id, _ = execution_trace(execution_id, inbound)
    return format_traceparent(trace_id, span_id_of(execution_id, task_run))
