"""Execution limits: how much one execution may take from the platform it shares.

An execution carries its limits in its state (they are fixed when it starts, from its
app's ``spec.limits``, and survive restarts with it). The engine enforces those it can
count without a clock: task runs and the items of one ``for``. The runtime enforces the
others: the size of the saved state and the CPU time spent deciding.

Going over a limit faults the whole execution, never one task: a ``try`` cannot catch it,
since catching it would let the execution go on consuming. The error is an RFC 7807
problem of the standard ``runtime`` type with status 429 (a quota was exhausted, as
gRPC's RESOURCE_EXHAUSTED maps to HTTP), titled "Execution limit exceeded", naming the
limit in ``limit`` and where it was hit in ``instance``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flowapp.dsl import errors

LIMIT_STATUS = 429
LIMIT_TITLE = "Execution limit exceeded"


@dataclass(frozen=True, slots=True)
class ExecutionLimits:
    task_runs: int = 10_000
    for_items: int = 5_000
    state_bytes: int = 16 << 20
    cpu_seconds: float = 60.0

    def to_json(self) -> dict[str, Any]:
        return {
            "taskRuns": self.task_runs,
            "forItems": self.for_items,
            "stateBytes": self.state_bytes,
            "cpuSeconds": self.cpu_seconds,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ExecutionLimits:
        if not data:
            return DEFAULT_LIMITS
        return cls(
            task_runs=int(data.get("taskRuns", DEFAULT_LIMITS.task_runs)),
            for_items=int(data.get("forItems", DEFAULT_LIMITS.for_items)),
            state_bytes=int(data.get("stateBytes", DEFAULT_LIMITS.state_bytes)),
            cpu_seconds=float(data.get("cpuSeconds", DEFAULT_LIMITS.cpu_seconds)),
        )


DEFAULT_LIMITS = ExecutionLimits()


def limit_error(limit: str, detail: str, *, instance: str = "/") -> dict[str, Any]:
    """The problem an execution faults with when it goes over ``limit`` (a resource key
    such as ``taskRuns``, or a platform limit such as ``decisionTime``)."""
    problem = errors.error(
        errors.RUNTIME, detail, instance=instance, status=LIMIT_STATUS, title=LIMIT_TITLE
    )
    problem["limit"] = limit
    return problem


class LimitExceeded(Exception):
    """Raised inside the machine; ``decide`` faults the whole execution with ``error``."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("detail"))
        self.error = error
