"""The machine's agenda: the work it has queued, and the signals waiting for it, as data.

Work is queued, not recursed (see ``machine``). Each entry is a tuple whose first item
says what it is:

    (ENTER, frame, task)                       start a task instance
    (COMPLETED, parent, child, output, then)   tell a parent that its child completed
    (FAULTED, parent, child, error)            tell a parent that its child faulted

Signals wait in a queue of their own and are applied one at a time, each once the work
queued before it is done, so a signal always meets a quiescent execution.

A decision has a step budget (one step = one entry or one signal). When it runs out, the
agenda is saved in the state (``state.pending``) and the next decision starts from it, in
this process or after a restart. An entry whose frame has ended meanwhile (a branch that
was cancelled) does nothing, whether it runs at once or after a save: the result of an
execution never depends on where its decisions were cut.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowapp.engine.signals import signal_from_json, signal_to_json
from flowapp.engine.state import Frame

if TYPE_CHECKING:
    from flowapp.engine.machine import Machine

ENTER, COMPLETED, FAULTED = "enter", "completed", "faulted"


def save(m: Machine) -> list[dict[str, Any]]:
    """What is left of the agenda, as JSON (frames by id, ended children in full)."""
    saved: list[dict[str, Any]] = []
    for entry in m.queue:
        kind, frame = entry[0], entry[1]
        if not m.is_live(frame):
            continue  # ended meanwhile: the entry would do nothing
        if kind == ENTER:
            saved.append({ENTER: frame.id})
        elif kind == COMPLETED:
            _, _, child, output, then = entry
            saved.append(
                {COMPLETED: frame.id, "child": child.to_json(), "output": output, "then": then}
            )
        else:
            _, _, child, error = entry
            saved.append({FAULTED: frame.id, "child": child.to_json(), "error": error})
    saved.extend({"signal": signal_to_json(signal)} for signal in m.signals)
    return saved


def restore(m: Machine, pending: list[dict[str, Any]]) -> None:
    """Put saved work and signals back on the agenda, in their order."""
    frames = m.state.frames
    for item in pending:
        if "signal" in item:
            m.signals.append(signal_from_json(item["signal"]))
            continue
        kind = next(k for k in (ENTER, COMPLETED, FAULTED) if k in item)
        frame = frames.get(item[kind])
        if frame is None:
            continue
        if kind == ENTER:
            m.queue.append((ENTER, frame, m.workflow.task(frame.reference)))
        elif kind == COMPLETED:
            child = Frame.from_json(item["child"])
            m.queue.append((COMPLETED, frame, child, item["output"], item["then"]))
        else:
            m.queue.append((FAULTED, frame, Frame.from_json(item["child"]), item["error"]))
