"""The state of one execution, as the engine sees it: plain data, JSON round-trippable.

An execution is a tree of *frames*, one per task instance in progress (the workflow's
root sequence is the root frame). A frame that waits for the outside world owns one or
more *effects* (a call, a timer, a subscription ...); ``effects`` maps each effect id to
the frame waiting for it and to the command that started it, so that after a crash the
runtime can reload the state and carry out every command that is still outstanding. This
is the outbox: it is saved in the same row, hence the same transaction, as the state.

Task runs are not kept here once they end: the engine reports them in each decision and
the runtime stores them.

``pending`` is work a decision left when it used up its step budget (see
``flowapp.engine.agenda``): saved like the rest, so a later decision, in this process or
after a restart, goes on from there. ``limits`` are the execution's own (fixed at its
start); ``cpu_seconds`` and ``crashes`` are kept by the runtime, which measures what the
engine cannot: the CPU time spent deciding it, and how many times the process died while
deciding it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flowapp.engine.commands import Command, command_from_json
from flowapp.engine.limits import DEFAULT_LIMITS, ExecutionLimits

PENDING = "pending"
RUNNING = "running"
WAITING = "waiting"
SUSPENDED = "suspended"
CANCELLED = "cancelled"
FAULTED = "faulted"
COMPLETED = "completed"

FINAL_STATUSES = frozenset({CANCELLED, FAULTED, COMPLETED})
# A task run's own status when its ``if`` was false: it did not run, its input passed on.
SKIPPED = "skipped"


class Frame:
    """One task instance in progress. ``data`` holds what its kind needs (index, results)."""

    __slots__ = (
        "attempt",
        "data",
        "id",
        "input",
        "occurrence",
        "parent",
        "quiet",
        "raw_input",
        "reference",
        "run",
        "started_at",
        "timer",
        "vars",
    )

    def __init__(
        self,
        *,
        id: int,
        parent: int | None,
        reference: str,
        occurrence: str,
        raw_input: Any,
        vars: dict[str, Any] | None,
        attempt: int,
        started_at: float,
        run: int = 0,
    ) -> None:
        self.id = id
        self.parent = parent
        self.reference = reference
        self.occurrence = occurrence
        self.raw_input = raw_input
        self.input: Any = raw_input
        self.vars = vars
        self.attempt = attempt
        self.started_at = started_at
        self.run = run
        self.data: dict[str, Any] = {}
        self.timer: str | None = None
        self.quiet = False

    def to_json(self) -> dict[str, Any]:
        return {slot: getattr(self, slot) for slot in self.__slots__}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Frame:
        frame = cls.__new__(cls)
        for slot in cls.__slots__:
            setattr(frame, slot, data.get(slot))
        frame.data = frame.data or {}
        return frame


@dataclass(slots=True)
class Effect:
    """An outstanding effect: who waits for it and the command that starts it."""

    frame: int
    command: Command
    purpose: str = ""  # for timers: timeout | wait | retry | workflow-timeout

    def to_json(self) -> dict[str, Any]:
        return {"frame": self.frame, "command": self.command.to_json(), "purpose": self.purpose}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Effect:
        return cls(data["frame"], command_from_json(data["command"]), data.get("purpose", ""))


@dataclass(slots=True)
class ExecutionState:
    execution_id: str
    status: str = PENDING
    input: Any = None
    transformed_input: Any = None
    context: Any = None
    output: Any = None
    error: dict[str, Any] | None = None
    started_at: float = 0.0
    ended_at: float | None = None
    sequence: int = 0
    run_sequence: int = 0
    root: int | None = None
    frames: dict[int, Frame] = field(default_factory=dict)
    effects: dict[str, Effect] = field(default_factory=dict)
    deferred: list[dict[str, Any]] = field(default_factory=list)
    memo: dict[str, Any] = field(default_factory=dict)
    generation: int = 0
    pending: list[dict[str, Any]] = field(default_factory=list)
    limits: ExecutionLimits = DEFAULT_LIMITS
    cpu_seconds: float = 0.0
    crashes: int = 0
    # The W3C ``traceparent`` of the caller that started the execution, when it was
    # started inside a trace (an inbound request, a parent execution's task): opaque to
    # the engine, kept so its spans join that trace across turns and restarts.
    trace: str | None = None

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    def current_task(self) -> str:
        """The task in progress deepest in the workflow ("/" when none): where a fault
        that concerns the whole execution is reported."""
        references = [frame.reference for frame in self.frames.values() if frame.reference]
        return max(references, key=len, default="/")

    @property
    def has_pending_work(self) -> bool:
        """A decision stopped at its step budget: decide a ``Continue`` to go on."""
        return bool(self.pending) and self.status in (RUNNING, WAITING)

    def next_id(self) -> int:
        self.sequence += 1
        return self.sequence

    def to_json(self) -> dict[str, Any]:
        return {
            "execution_id": self.execution_id,
            "status": self.status,
            "input": self.input,
            "transformed_input": self.transformed_input,
            "context": self.context,
            "output": self.output,
            "error": self.error,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "sequence": self.sequence,
            "run_sequence": self.run_sequence,
            "root": self.root,
            "frames": [frame.to_json() for frame in self.frames.values()],
            "effects": {key: effect.to_json() for key, effect in self.effects.items()},
            "deferred": self.deferred,
            "memo": self.memo,
            "generation": self.generation,
            "pending": self.pending,
            "limits": None if self.limits == DEFAULT_LIMITS else self.limits.to_json(),
            "cpu_seconds": self.cpu_seconds,
            "crashes": self.crashes,
        } | ({"trace": self.trace} if self.trace is not None else {})

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExecutionState:
        frames = [Frame.from_json(f) for f in data.get("frames", ())]
        effects = {k: Effect.from_json(v) for k, v in (data.get("effects") or {}).items()}
        return cls(
            execution_id=data["execution_id"],
            status=data["status"],
            input=data.get("input"),
            transformed_input=data.get("transformed_input"),
            context=data.get("context"),
            output=data.get("output"),
            error=data.get("error"),
            started_at=data.get("started_at", 0.0),
            ended_at=data.get("ended_at"),
            sequence=data.get("sequence", 0),
            run_sequence=data.get("run_sequence", 0),
            root=data.get("root"),
            frames={frame.id: frame for frame in frames},
            effects=effects,
            deferred=list(data.get("deferred") or ()),
            memo=dict(data.get("memo") or {}),
            generation=data.get("generation", 0),
            pending=list(data.get("pending") or ()),
            limits=ExecutionLimits.from_json(data.get("limits")),
            cpu_seconds=data.get("cpu_seconds") or 0.0,
            crashes=data.get("crashes") or 0,
            trace=data.get("trace"),
        )
