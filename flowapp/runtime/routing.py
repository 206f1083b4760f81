"""Routing events to the executions that listen for them (``listen`` tasks).

The engine subscribes with the exact attribute values each of its filters names; an
event is offered to every subscription whose values it has (an empty list of
alternatives takes every event). The engine then applies the full filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Listener:
    execution_id: str
    effect_id: str
    attributes: list[dict[str, str]]

    def may_want(self, event: dict[str, Any]) -> bool:
        if not self.attributes:
            return True
        return any(
            all(event.get(key) == value for key, value in alternative.items())
            for alternative in self.attributes
        )


class EventRouter:
    def __init__(self) -> None:
        self._listeners: dict[tuple[str, str], Listener] = {}

    def __len__(self) -> int:
        return len(self._listeners)

    def add(self, listener: Listener) -> None:
        self._listeners[(listener.execution_id, listener.effect_id)] = listener

    def remove(self, execution_id: str, effect_id: str) -> None:
        self._listeners.pop((execution_id, effect_id), None)

    def remove_execution(self, execution_id: str) -> None:
        for key in [k for k in self._listeners if k[0] == execution_id]:
            del self._listeners[key]

    def listens(self, execution_id: str) -> bool:
        return any(key[0] == execution_id for key in self._listeners)

    def route(self, event: dict[str, Any]) -> list[Listener]:
        return [listener for listener in self._listeners.values() if listener.may_want(event)]
