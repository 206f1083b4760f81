"""The shape every effect adapter shares."""

from __future__ import annotations

from typing import Any


class EffectError(Exception):
    """An effect failed; ``error`` is the RFC 7807 object the task faults with."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("detail") or error.get("title") or "effect failed")
        self.error = error
