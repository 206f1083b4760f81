"""Knative Trigger filters for the events a workflow waits for (``listen``, ``schedule.on``).

A ``listen`` (or ``schedule.on``) names the events it wants with ``with`` filters
(``{type: com.example.order.paid, source: /shop}``), one of ``one``, or several under
``any`` / ``all``. The engine still matches each event exactly; the Knative Trigger only
keeps the rest of the Broker's traffic away from the engine, so it may be broader, never
narrower: an attribute given as an expression, or not as text, is left out of the filter,
and a filter left with nothing makes the Trigger take every event.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

Obj = dict[str, Any]
_ATTRIBUTE = re.compile(r"[a-z0-9]{1,20}")


def wanted_events(workflow: Obj) -> Iterator[Obj]:
    """Every ``with`` filter of every ``listen`` task and of ``schedule.on``."""
    schedule = workflow.get("schedule")
    if isinstance(schedule, dict) and isinstance(schedule.get("on"), dict):
        yield from _consumption(schedule["on"])
    for task in _tasks(workflow.get("do")):
        listen = task.get("listen")
        if isinstance(listen, dict) and isinstance(listen.get("to"), dict):
            yield from _consumption(listen["to"])


def listen_filters(workflow: Obj) -> list[Obj] | None:
    """The Trigger's ``filters`` (``[]`` for every event), or None when nothing listens."""
    wanted = list(wanted_events(workflow))
    if not wanted:
        return None
    alternatives = [_exact(filter_) for filter_ in wanted]
    if any(not alternative for alternative in alternatives):
        return []
    unique = [a for i, a in enumerate(alternatives) if a not in alternatives[:i]]
    if len(unique) == 1:
        return unique[0]
    return [{"any": [{"all": alternative} for alternative in unique]}]


def _exact(filter_: Obj) -> list[Obj]:
    return [
        {"exact": {key: value}}
        for key, value in sorted(filter_.items())
        if _ATTRIBUTE.fullmatch(str(key)) and isinstance(value, str) and value
        if not value.lstrip().startswith("${")
    ]


def _consumption(strategy: Obj) -> Iterator[Obj]:
    if isinstance(strategy.get("one"), dict):
        yield strategy["one"].get("with") or {}
    for key in ("any", "all"):
        filters = strategy.get(key)
        if isinstance(filters, list):
            if not filters:
                yield {}  # `any: []` takes any event
            for item in filters:
                if isinstance(item, dict):
                    yield item.get("with") or {}


def _tasks(value: Any) -> Iterator[Obj]:
    """Every task object under ``value``, at any depth."""
    if isinstance(value, list):
        for item in value:
            yield from _tasks(item)
    elif isinstance(value, dict):
        for child in value.values():
            if isinstance(child, dict) and "listen" in child:
                yield child
            yield from _tasks(child)
