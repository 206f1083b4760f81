"""Signals: what happens to an execution, fed to ``decide`` one at a time.

The runtime turns everything that reaches an execution (its start, a function's reply,
a timer coming due, a matching event, a user's cancel) into one of these.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Signal:
    pass


@dataclass(frozen=True, slots=True)
class Start(Signal):
    input: Any = None


@dataclass(frozen=True, slots=True)
class EffectSucceeded(Signal):
    effect_id: str
    result: Any = None


@dataclass(frozen=True, slots=True)
class EffectFailed(Signal):
    effect_id: str
    error: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TimerFired(Signal):
    effect_id: str


@dataclass(frozen=True, slots=True)
class EventArrived(Signal):
    effect_id: str
    event: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Cancel(Signal):
    reason: str = "cancelled by request"


@dataclass(frozen=True, slots=True)
class Suspend(Signal):
    pass


@dataclass(frozen=True, slots=True)
class Resume(Signal):
    pass


@dataclass(frozen=True, slots=True)
class RetryFailed(Signal):
    """Run a faulted execution again from the task that failed.

    ``memo`` maps the occurrence key of each task that completed before the fault to its
    transformed output; those tasks are not run again, their outputs are reused.
    """

    memo: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Continue(Signal):
    """Go on with the work a decision left when it used up its step budget."""


@dataclass(frozen=True, slots=True)
class Abort(Signal):
    """Fault the execution with ``error``, for a reason only the runtime can see: a limit
    it measures (CPU time, state size), or a decision that brought a decider down."""

    error: dict[str, Any] = field(default_factory=dict)


_DEFERRABLE = (EffectSucceeded, EffectFailed, TimerFired, EventArrived)


def is_deferrable(signal: Signal) -> bool:
    """Results that arrive while an execution is suspended wait until it resumes."""
    return isinstance(signal, _DEFERRABLE)


def signal_to_json(signal: Signal) -> dict[str, Any]:
    data: dict[str, Any] = {f.name: getattr(signal, f.name) for f in dataclasses.fields(signal)}
    data["signal"] = type(signal).__name__
    return data


_KINDS: dict[str, type[Signal]] = {
    cls.__name__: cls
    for cls in (*_DEFERRABLE, Start, Cancel, Suspend, Resume, RetryFailed, Continue, Abort)
}


def signal_from_json(data: dict[str, Any]) -> Signal:
    """The signal ``signal_to_json`` wrote; ``ValueError`` for anything else."""
    kind = _KINDS.get(str(data.get("signal")))
    if kind is None:
        raise ValueError(f"unknown signal {data.get('signal')!r}")
    fields = {k: v for k, v in data.items() if k != "signal"}
    return kind(**fields)
