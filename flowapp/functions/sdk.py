"""What a function author imports: the call :class:`Context` and :class:`FunctionError`.

A Python function is ``def handle(data, context)`` (or ``async def``) in
``functions/<name>/main.py``. ``data`` is the task's input (the CloudEvent's data);
``context`` describes the call::

    from flowapp.functions.sdk import Context, FunctionError

    def handle(data: dict, context: Context) -> dict:
        context.logger.info("appending to %s", data["text"])
        if not data.get("text"):
            raise FunctionError(422, "Missing text", "input has no 'text'")
        return {"text": data["text"] + "!"}

This module is deliberately tiny and imports nothing heavy: it is loaded in every function
process, and authors may use it in their own unit tests without the host.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from flowapp.functions.tracecontext import ATTRIBUTE as TRACEPARENT_ATTRIBUTE
from flowapp.functions.tracecontext import parse_traceparent

# CloudEvent extension attributes set by the engine on every call.
EXECUTION_ATTRIBUTE = "flowappexecution"
TASK_ATTRIBUTE = "flowapptask"
ATTEMPT_ATTRIBUTE = "flowappattempt"


@dataclass(frozen=True, slots=True)
class Context:
    """One call of a function.

    ``idempotency_key`` is the CloudEvent id: stable across redeliveries of one call (the
    engine delivers at least once), so a function with side effects can deduplicate on it.
    ``logger`` tags every record with the execution id and task reference, which lets the
    supervisor show the logs of one execution.
    """

    attributes: Mapping[str, Any]
    execution_id: str | None
    task_reference: str | None
    attempt: int
    idempotency_key: str
    logger: logging.Logger


class FunctionError(Exception):
    """Raise in a handler to reply ``status`` with an RFC 7807 problem body.

    The engine sees a communication error with that status, which a workflow can catch
    (``catch: {errors: {with: {status: 422}}}``) or retry.
    """

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        type: str = "about:blank",
    ) -> None:
        if not 400 <= status <= 599:
            raise ValueError(f"a function error needs a 4xx or 5xx status, not {status}")
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type
        super().__init__(f"{status} {title}" + (f": {detail}" if detail else ""))

    def to_problem(self) -> dict[str, Any]:
        problem: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail:
            problem["detail"] = self.detail
        return problem


def build_context(attributes: Mapping[str, Any], *, logger: logging.Logger) -> Context:
    """The context of a call from its CloudEvent attributes; ``logger`` is the function's."""
    execution_id = _optional_str(attributes.get(EXECUTION_ATTRIBUTE))
    task_reference = _optional_str(attributes.get(TASK_ATTRIBUTE))
    return Context(
        attributes=MappingProxyType(dict(attributes)),
        execution_id=execution_id,
        task_reference=task_reference,
        attempt=_attempt(attributes.get(ATTEMPT_ATTRIBUTE)),
        idempotency_key=str(attributes.get("id", "")),
        logger=execution_logger(
            logger,
            execution_id=execution_id,
            task_reference=task_reference,
            trace_id=_trace_id(attributes.get(TRACEPARENT_ATTRIBUTE)),
        ),
    )


def execution_logger(
    parent: logging.Logger,
    *,
    execution_id: str | None,
    task_reference: str | None,
    trace_id: str | None = None,
) -> logging.Logger:
    """A logger whose records carry ``execution_id``, ``task_reference`` and (for a call
    made inside a trace) ``trace_id`` attributes."""
    fields = {"execution_id": execution_id, "task_reference": task_reference}
    if trace_id is not None:
        fields["trace_id"] = trace_id
    return _ExecutionLogger(parent, fields)


class _ExecutionLogger(logging.Logger):
    # Never registered with the logging manager (``getLogger`` would keep one per call
    # forever): it lives as long as the call and hands records to its parent's handlers.
    def __init__(self, parent: logging.Logger, fields: dict[str, str | None]) -> None:
        super().__init__(parent.name)
        self.parent = parent
        self._fields = fields

    def makeRecord(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = super().makeRecord(*args, **kwargs)
        record.__dict__.update(self._fields)
        return record


def _trace_id(traceparent: Any) -> str | None:
    """The trace id of a ``traceparent`` attribute, as log lines carry it (hex)."""
    if not isinstance(traceparent, str):
        return None
    parsed = parse_traceparent(traceparent)
    return f"{parsed.trace_id:032x}" if parsed is not None else None


def _optional_str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _attempt(value: Any) -> int:
    # The attempt travels as a header string in binary mode and as a number in structured
    # mode; anything unreadable means "first attempt" rather than a failed call.
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1
