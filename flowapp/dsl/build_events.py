"""Model builders for event consumption: ``listen`` tasks and ``schedule.on``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flowapp.dsl import model as m
from flowapp.dsl.durations import duration_seconds
from flowapp.dsl.expressions import compile_expression, expression_source, strict_source

if TYPE_CHECKING:
    from flowapp.dsl.build import Builder


def event_filter(b: Builder, spec: Mapping[str, Any]) -> m.EventFilter:
    """Split ``with`` into literal attributes (exact or regex) and expression templates."""
    literal: dict[str, Any] = {}
    templates = {}
    for key, value in (spec.get("with") or {}).items():
        if (isinstance(value, str) and strict_source(value) is not None) or (
            key == "data" and not isinstance(value, str)
        ):
            templates[key] = b.template(value)
        else:
            literal[key] = value
    correlate = {
        key: m.Correlation(
            from_=compile_expression(expression_source(c["from"])),
            expect=b.template(c["expect"]) if "expect" in c else None,
        )
        for key, c in (spec.get("correlate") or {}).items()
    }
    return m.EventFilter(literal, templates, correlate)


def consumption_strategy(b: Builder, spec: Mapping[str, Any]) -> m.ConsumptionStrategy:
    if "one" in spec:
        return m.ConsumptionStrategy("one", (event_filter(b, spec["one"]),))
    if "all" in spec:
        return m.ConsumptionStrategy("all", tuple(event_filter(b, f) for f in spec["all"]))
    filters = tuple(event_filter(b, f) for f in spec.get("any") or ())
    until = spec.get("until")
    if isinstance(until, str):
        expression = compile_expression(expression_source(until))
        return m.ConsumptionStrategy("any", filters, until_expression=expression)
    if isinstance(until, Mapping):
        return m.ConsumptionStrategy("any", filters, until_events=consumption_strategy(b, until))
    return m.ConsumptionStrategy("any", filters)


def build_listen(b: Builder, d: Mapping[str, Any], ref: str, common: dict[str, Any]) -> m.Task:
    listen = d["listen"]
    foreach = d.get("foreach")
    iterator = None
    if foreach is not None:
        iterator = m.SubscriptionIterator(
            item=foreach.get("item", "item"),
            at=foreach.get("at", "index"),
            tasks=b.task_list(foreach["do"], ref + "/foreach/do") if "do" in foreach else None,
            output=b.output(foreach.get("output")),
            export=b.export(foreach.get("export")),
        )
    return m.ListenTask(
        to=consumption_strategy(b, listen["to"]),
        read=listen.get("read", "data"),
        foreach=iterator,
        **common,
    )


def build_schedule(b: Builder, spec: Mapping[str, Any] | None) -> m.Schedule | None:
    if not spec:
        return None
    return m.Schedule(
        every=duration_seconds(spec["every"]) if "every" in spec else None,
        cron=spec.get("cron"),
        after=duration_seconds(spec["after"]) if "after" in spec else None,
        on=consumption_strategy(b, spec["on"]) if "on" in spec else None,
    )
