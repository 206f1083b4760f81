"""What a caller learns of an execution: how it ended (or where it stands), or that it is
unknown here and in the store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Outcome:
    """How an execution ended (or where it stands, if ``wait_for`` timed out)."""

    id: str
    status: str
    output: Any = None
    error: dict[str, Any] | None = None

    @property
    def is_final(self) -> bool:
        return self.status in ("completed", "faulted", "cancelled")


class UnknownExecution(LookupError):
    """Neither this process nor the store knows the execution (or its workflow)."""
