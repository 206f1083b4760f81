"""The execution (task, trace) a log record is about, for JSON log lines.

With ``--log-format json`` the CLI calls :func:`enable`; the runtime then notes, in the
asyncio task that advances an execution or carries out one of its effects, which
execution, task reference and trace id the work is for, and the log formatter adds them
to every record made there. Off (the default), the runtime skips even the note.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import NamedTuple

from flowapp.engine.state import ExecutionState
from flowapp.functions.tracecontext import execution_trace, task_traceparent


class LogContext(NamedTuple):
    execution_id: str
    task_reference: str | None
    trace_id: str


CURRENT: ContextVar[LogContext | None] = ContextVar("flowapp_log_context", default=None)
_enabled = False


def enable(on: bool = True) -> None:
    global _enabled
    _enabled = on


def enabled() -> bool:
    return _enabled


def note(execution_id: str, trace: str | None, task_reference: str | None = None) -> None:
    """Records made in this asyncio task from now on are about this execution (and task);
    ``trace`` is the execution's saved ``traceparent``, if it was started inside one."""
    trace_id, _ = execution_trace(execution_id, trace)
    CURRENT.set(LogContext(execution_id, task_reference, f"{trace_id:032x}"))


def effect_trace(state: ExecutionState, effect_id: str) -> tuple[str | None, str | None]:
    """``(traceparent, task reference)`` of the task run waiting for an effect: the span
    its work runs under (a function call carries it) and the task its logs are about."""
    effect = state.effects.get(effect_id)
    frame = state.frames.get(effect.frame) if effect is not None else None
    if frame is None or not frame.run:
        return None, None
    traceparent = task_traceparent(state.execution_id, state.trace, frame.run)
    return traceparent, frame.reference
