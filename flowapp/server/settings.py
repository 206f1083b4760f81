"""What an operator may tune in the API server; everything else follows from the request."""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1 << 20


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """Request limits. A body over its limit is refused with 413 before it is read whole:
    on ``Content-Length`` when the client declares one, else while it streams in."""

    max_body_bytes: int = 1 * MIB  # every request body but source uploads
    max_source_bytes: int = 64 * MIB  # a project folder as a gzipped tar
    max_wait_seconds: float = 300.0  # the longest ``?wait=`` an invocation may ask for
    max_list_limit: int = 1000  # the largest page of executions, logs, task runs ...
    task_page: int = 500  # task runs in ``GET /executions/{id}`` unless it asks for more
    stream_poll_seconds: float = 0.2  # how often a live stream looks at its execution
    stream_max_seconds: float = 600.0  # then it ends and the client connects again

    def __post_init__(self) -> None:
        # Refused here, at construction, rather than as odd behaviour at request time.
        for name in ("max_body_bytes", "max_source_bytes", "max_list_limit"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        if self.max_wait_seconds < 0:
            raise ValueError("max_wait_seconds must be >= 0")
        for name in ("task_page", "stream_poll_seconds", "stream_max_seconds"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0")
