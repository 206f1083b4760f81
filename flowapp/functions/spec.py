"""How to run one function: :class:`FunctionSpec` and its :class:`ScaleSpec`.

A spec is what a FlowApp's ``spec.functions.<name>`` entry says, resolved against the
project folder. Scale defaults follow Knative's spirit for one machine: keep one instance
warm (``min=1``, so the first call of a ``flowapp up`` session pays no cold start), allow a
burst to four processes, and send each at most eight concurrent calls (a Python host runs
sync handlers on that many threads). ``min=0`` asks for scale to zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, get_args

from flowapp.dsl.durations import duration_seconds

Runtime = Literal["python", "node", "java", "go", "command"]
RUNTIMES: tuple[str, ...] = get_args(Runtime)
_DURATIONS = {
    "timeout": "timeout",
    "idlePeriod": "idle_period",
    "startupTimeout": "startup_timeout",
}


@dataclass(frozen=True, slots=True)
class ScaleSpec:
    """Instances between ``min`` and ``max``; ``concurrency`` calls in flight per instance."""

    min: int = 1
    max: int = 4
    concurrency: int = 8

    def __post_init__(self) -> None:
        if self.min < 0 or self.max < 1 or self.min > self.max:
            raise ValueError(f"scale needs 0 <= min <= max and max >= 1, got {self}")
        if self.concurrency < 1:
            raise ValueError(f"scale.concurrency must be at least 1, got {self.concurrency}")


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """One function. Durations are seconds.

    ``timeout`` bounds one call's HTTP exchange with an instance; ``startup_timeout``
    bounds both an instance's wait for ``/healthz`` and a call's wait for a free instance;
    ``idle_period`` is how long an instance must be idle before it is scaled down.
    """

    name: str
    runtime: Runtime
    path: Path
    command: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    scale: ScaleSpec = field(default_factory=ScaleSpec)
    timeout: float = 30.0
    idle_period: float = 60.0
    startup_timeout: float = 30.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))
        object.__setattr__(self, "env", MappingProxyType(dict(self.env)))
        if self.runtime not in RUNTIMES:
            raise ValueError(f"function {self.name!r}: runtime must be one of {RUNTIMES}")
        if self.runtime == "command" and not (self.command or "").strip():
            raise ValueError(f"function {self.name!r}: runtime command needs a `command`")
        for name in ("timeout", "idle_period", "startup_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"function {self.name!r}: {name} must be positive")

    @classmethod
    def from_resource(
        cls, name: str, entry: Mapping[str, Any], *, base_dir: Path = Path(".")
    ) -> FunctionSpec:
        """A spec from a FlowApp ``spec.functions`` entry (camelCase keys, as in the
        resource); durations are seconds or ISO 8601 strings such as ``PT30S``."""
        scale = entry.get("scale") or {}
        optional = {
            attribute: _seconds(entry[key]) for key, attribute in _DURATIONS.items() if key in entry
        }
        return cls(
            name=name,
            runtime=entry.get("runtime", "python"),
            path=base_dir / entry.get("path", f"functions/{name}"),
            command=entry.get("command"),
            env={str(k): str(v) for k, v in (entry.get("env") or {}).items()},
            scale=ScaleSpec(**scale),
            **optional,
        )


def _seconds(value: Any) -> float:
    return duration_seconds(value) if isinstance(value, str | dict) else float(value)
