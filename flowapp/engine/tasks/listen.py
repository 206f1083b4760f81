"""``listen``: wait durably for events that match ``one`` / ``any`` / ``all`` filters.

The runtime is told which events could matter (``Subscribe`` with the exact attribute
values of each filter) and forwards candidates; the engine applies the full filter:
exact values or regular expressions for attributes, expressions (``data: ${ .bpm > 100 }``
is evaluated on the event's data), and correlations (the first value a ``correlate.from``
extracts becomes the expectation when no ``expect`` is given).

``any`` with ``until`` keeps consuming: an expression ``until`` is evaluated on the array of
consumed events; an event-strategy ``until`` stops on its own events, which are not part of
the output. With ``foreach``, consumed events are processed one at a time, in order.
"""

from __future__ import annotations

import re
from typing import Any

from flowapp.dsl.expressions import ExpressionError, truthy
from flowapp.dsl.model import ConsumptionStrategy, EventFilter, ListenTask
from flowapp.engine.commands import Subscribe
from flowapp.engine.machine import Machine, TaskFault, expression_error
from flowapp.engine.state import Effect, Frame
from flowapp.engine.tasks.base import TaskHandler, advance, begin

_REGEX_CHARACTERS = frozenset("^$*+?()[]{}|\\")


def _looks_like_regex(value: str) -> bool:
    return any(character in _REGEX_CHARACTERS for character in value)


def coarse_attributes(strategy: ConsumptionStrategy) -> list[dict[str, str]]:
    """Exact attribute values per filter, for the runtime's routing; [] means every event."""
    filters = list(strategy.filters)
    if strategy.until_events is not None:
        filters.extend(strategy.until_events.filters)
    coarse = []
    for event_filter in filters:
        exact = {
            key: value
            for key, value in event_filter.attributes.items()
            if isinstance(value, str) and key != "data" and not _looks_like_regex(value)
        }
        coarse.append(exact)
    return [] if not filters or any(not c for c in coarse) else coarse


def _attribute_matches(expected: Any, actual: Any) -> bool:
    if isinstance(expected, str) and isinstance(actual, str):
        if expected == actual:
            return True
        if _looks_like_regex(expected):
            try:
                return re.fullmatch(expected, actual) is not None
            except re.error:
                return False
        return False
    if isinstance(expected, dict) and isinstance(actual, dict):
        return all(_attribute_matches(v, actual.get(k)) for k, v in expected.items())
    return bool(expected == actual)


class ListenHandler(TaskHandler):
    replayable = True

    def start(self, m: Machine, task: ListenTask, frame: Frame) -> None:
        frame.data.update(consumed=[], matched={}, queue=[], outputs=[], listening=True)
        frame.data["correlation"] = {}
        command = Subscribe(
            effect_id=m.new_effect_id(),
            execution_id=m.state.execution_id,
            attributes=coarse_attributes(task.to),
        )
        frame.data["subscription"] = command.effect_id
        m.issue(frame, command)

    @staticmethod
    def task(m: Machine, frame: Frame) -> ListenTask:
        task = m.workflow.task(frame.reference)
        assert isinstance(task, ListenTask)
        return task

    def matches(
        self, m: Machine, task: ListenTask, frame: Frame, f: EventFilter, event: Any
    ) -> bool:
        for key, expected in f.attributes.items():
            if not _attribute_matches(expected, event.get(key)):
                return False
        scope = m.scope(frame, task)
        for key, template in f.templates.items():
            actual = event.get(key)
            result = m.render(template, actual, scope, task.reference)
            if isinstance(result, bool) or result is None:
                if not truthy(result):
                    return False
            elif not _attribute_matches(result, actual):
                return False
        return self.correlates(m, task, frame, f, event)

    def correlates(
        self, m: Machine, task: ListenTask, frame: Frame, f: EventFilter, event: Any
    ) -> bool:
        expectations = frame.data["correlation"]
        for key, correlation in f.correlate.items():
            try:
                value = correlation.from_.evaluate(event, m.scope(frame, task))
            except ExpressionError as exc:
                raise TaskFault(expression_error(exc, task.reference)) from None
            if correlation.expect is not None:
                expected = m.render(
                    correlation.expect, frame.input, m.scope(frame, task), task.reference
                )
            elif key in expectations:
                expected = expectations[key]
            else:
                expectations[key] = value
                continue
            if value != expected:
                return False
        return True

    def first_match(
        self, m: Machine, task: ListenTask, frame: Frame, filters: Any, event: Any
    ) -> int | None:
        for index, event_filter in enumerate(filters):
            if self.matches(m, task, frame, event_filter, event):
                return index
        return None

    def on_event(self, m: Machine, frame: Frame, effect: Effect, event: dict[str, Any]) -> None:
        task = self.task(m, frame)
        if not frame.data["listening"]:
            return
        try:
            self.consume(m, task, frame, event)
        except TaskFault as fault:
            m.fault(frame, fault.error)

    def consume(self, m: Machine, task: ListenTask, frame: Frame, event: dict[str, Any]) -> None:
        strategy = task.to
        until_events = strategy.until_events
        if (
            until_events is not None
            and self.first_match(m, task, frame, until_events.filters, event) is not None
        ):
            self.stop_listening(m, task, frame)
            return
        if strategy.mode == "any" and not strategy.filters:
            index: int | None = 0
        else:
            index = self.first_match(m, task, frame, strategy.filters, event)
        if index is None:
            return
        if strategy.mode == "all":
            if str(index) in frame.data["matched"]:
                return
            frame.data["matched"][str(index)] = True
        frame.data["consumed"].append(event)
        self.enqueue(m, task, frame, event)
        if self.satisfied(m, task, frame):
            self.stop_listening(m, task, frame)

    def satisfied(self, m: Machine, task: ListenTask, frame: Frame) -> bool:
        strategy = task.to
        if strategy.mode == "all":
            return len(frame.data["matched"]) == len(strategy.filters)
        if strategy.mode == "any" and strategy.until_expression is not None:
            consumed = [self.read(task, e) for e in frame.data["consumed"]]
            try:
                return truthy(strategy.until_expression.evaluate(consumed, m.scope(frame, task)))
            except ExpressionError as exc:
                raise TaskFault(expression_error(exc, task.reference)) from None
        return strategy.mode == "one" or strategy.until_events is None

    @staticmethod
    def read(task: ListenTask, event: dict[str, Any]) -> Any:
        if task.read == "envelope":
            return event
        if task.read == "raw":
            return event.get("data_base64", event.get("data"))
        return event.get("data")

    def stop_listening(self, m: Machine, task: ListenTask, frame: Frame) -> None:
        frame.data["listening"] = False
        m.drop_effect(frame.data["subscription"], cancel=True)
        self.finish_if_idle(m, task, frame)

    def finish_if_idle(self, m: Machine, task: ListenTask, frame: Frame) -> None:
        if frame.data["listening"] or frame.data.get("busy") or frame.data["queue"]:
            return
        if task.foreach is None:
            m.complete(frame, [self.read(task, e) for e in frame.data["consumed"]])
        else:
            m.complete(frame, frame.data["outputs"])

    # --- foreach: one consumed event at a time ---------------------------------------

    def enqueue(self, m: Machine, task: ListenTask, frame: Frame, event: dict[str, Any]) -> None:
        if task.foreach is None:
            return
        frame.data["queue"].append(event)
        if not frame.data.get("busy"):
            self.next_item(m, task, frame)

    def next_item(self, m: Machine, task: ListenTask, frame: Frame) -> None:
        iterator = task.foreach
        assert iterator is not None
        if not frame.data["queue"]:
            frame.data["busy"] = False
            self.finish_if_idle(m, task, frame)
            return
        item = self.read(task, frame.data["queue"].pop(0))
        index = len(frame.data["outputs"])
        loop_vars = {**(frame.vars or {}), iterator.item: item, iterator.at: index}
        frame.data.update(busy=True, item_vars=loop_vars, item=item)
        prefix = f"{frame.occurrence}[{index}]"
        if iterator.tasks is None or not begin(
            m, frame, iterator.tasks, item, vars=loop_vars, prefix=prefix
        ):
            self.item_done(m, task, frame, item)

    def on_child_completed(
        self, m: Machine, frame: Frame, child: Frame, output: Any, then: str
    ) -> None:
        task = self.task(m, frame)
        iterator = task.foreach
        assert iterator is not None and iterator.tasks is not None
        index = len(frame.data["outputs"])
        vars_ = frame.data["item_vars"]
        if not advance(
            m,
            frame,
            iterator.tasks,
            output,
            then,
            vars=vars_,
            prefix=f"{frame.occurrence}[{index}]",
        ):
            self.item_done(m, task, frame, output)

    def item_done(self, m: Machine, task: ListenTask, frame: Frame, output: Any) -> None:
        iterator = task.foreach
        assert iterator is not None
        scope = m.scope(frame, task, **frame.data["item_vars"])
        try:
            if iterator.output is not None and iterator.output.as_ is not None:
                output = m.render(iterator.output.as_, output, scope, task.reference)
            if iterator.export is not None and iterator.export.as_ is not None:
                scope = m.scope(frame, task, output=output, **frame.data["item_vars"])
                m.state.context = m.render(iterator.export.as_, output, scope, task.reference)
        except TaskFault as fault:
            m.fault(frame, fault.error)
            return
        frame.data["outputs"].append(output)
        self.next_item(m, task, frame)
