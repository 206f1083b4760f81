"""A simulator that runs a workflow on the pure engine, with virtual time and scripted
answers to its commands. No I/O and no real waiting: ``wait: PT1H`` takes no time.

    result = simulate(workflow, {"x": 1}, http=lambda request: {"status": 200, ...})

Responders receive the command and return its result or raise ``SimulatedFailure``
with the error to fail it. Events given in ``events`` are offered, in order, to the
execution's subscriptions whenever it waits for events; emitted events are offered too.

Part of the public testing kit: production code never imports it (``.importlinter``).
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flowapp.dsl.model import Workflow
from flowapp.engine import commands as c
from flowapp.engine.decide import decide, new_state
from flowapp.engine.limits import DEFAULT_LIMITS, ExecutionLimits
from flowapp.engine.records import TaskRun
from flowapp.engine.scope import DEFAULT_ENVIRONMENT, Environment
from flowapp.engine.signals import (
    Continue,
    EffectFailed,
    EffectSucceeded,
    EventArrived,
    Signal,
    Start,
    TimerFired,
)
from flowapp.engine.state import ExecutionState

Responder = Callable[[Any], Any]


class SimulatedFailure(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("title"))
        self.error = error


@dataclass
class Simulation:
    state: ExecutionState
    runs: dict[int, TaskRun] = field(default_factory=dict)
    commands: list[c.Command] = field(default_factory=list)
    emitted: list[dict[str, Any]] = field(default_factory=list)
    now: float = 0.0
    decisions: int = 0

    @property
    def status(self) -> str:
        return self.state.status

    @property
    def output(self) -> Any:
        return self.state.output

    @property
    def error(self) -> dict[str, Any] | None:
        return self.state.error

    def task_runs(self) -> list[TaskRun]:
        return [self.runs[k] for k in sorted(self.runs)]

    def names(self) -> list[str]:
        return [run.name for run in self.task_runs()]


def workflow_from_yaml(text: str, **kwargs: Any) -> Workflow:
    """A workflow model from YAML text (schema validation is the caller's business);
    a ``document`` header is added when the text has none."""
    import re
    import textwrap

    from ruamel.yaml import YAML

    from flowapp.dsl.build import build_workflow

    body = textwrap.dedent(text)
    if not re.search(r"^document:", body, re.M):
        body = "document: {dsl: '1.0.3', namespace: test, name: t, version: '1.0.0'}\n" + body
    return build_workflow(YAML(typ="safe").load(body), **kwargs)


def simulate(
    workflow: Workflow,
    input: Any = None,
    *,
    http: Responder | None = None,
    functions: Responder | None = None,
    processes: Responder | None = None,
    children: Responder | None = None,
    documents: Responder | None = None,
    events: Sequence[dict[str, Any]] = (),
    env: Environment = DEFAULT_ENVIRONMENT,
    start: float = 1_700_000_000.0,
    max_steps: int = 100_000,
    budget: int | None = None,
    limits: ExecutionLimits = DEFAULT_LIMITS,
    reload: bool = False,
) -> Simulation:
    """``budget``: steps per decision (a decision that uses it up is continued by the
    next); ``max_steps``: decisions in all; ``reload``: save the state as JSON and load
    it back between decisions, as a durable runtime does."""
    sim = Simulation(new_state("sim-1", limits), now=start)
    responders: dict[type[c.Command], Responder | None] = {
        c.CallHttp: http,
        c.CallFunction: functions,
        c.RunProcess: processes,
        c.StartWorkflow: children,
        c.FetchDocument: documents,
    }
    ready: list[Signal] = [Start(input)]
    timers: list[tuple[float, int, str]] = []
    subscriptions: dict[str, c.Subscribe] = {}
    pending_events = list(events)
    order = 0
    for _ in range(max_steps):
        if not ready:
            if subscriptions and pending_events:
                event = pending_events.pop(0)
                ready.extend(EventArrived(key, event) for key in list(subscriptions))
                continue
            if not timers:
                break
            due, _, effect_id = heapq.heappop(timers)
            sim.now = max(sim.now, due)
            ready.append(TimerFired(effect_id))
            continue
        decision = decide(workflow, sim.state, ready.pop(0), sim.now, env, budget=budget)
        sim.decisions += 1
        if reload:
            sim.state = ExecutionState.from_json(json.loads(json.dumps(sim.state.to_json())))
        for run in decision.task_runs:
            sim.runs[run.id] = run
        for command in decision.commands:
            sim.commands.append(command)
            if isinstance(command, c.StartTimer):
                order += 1
                heapq.heappush(timers, (command.due_at, order, command.effect_id))
            elif isinstance(command, c.Subscribe):
                subscriptions[command.effect_id] = command
            elif isinstance(command, c.CancelEffect):
                subscriptions.pop(command.effect_id, None)
                timers = [t for t in timers if t[2] != command.effect_id]
                heapq.heapify(timers)
            elif isinstance(command, c.EmitEvent):
                sim.emitted.append(command.event)
                pending_events.append(command.event)
            else:
                ready.append(_answer(command, responders.get(type(command))))
        if sim.state.has_pending_work:
            ready.append(Continue())
        if sim.state.is_final:
            break
    return sim


def _answer(command: c.Command, responder: Responder | None) -> Signal:
    if responder is None:
        error = {
            "type": "https://serverlessworkflow.io/spec/1.0.0/errors/runtime",
            "status": 500,
            "title": f"no responder for {command.kind}",
        }
        return EffectFailed(command.effect_id, error)
    try:
        return EffectSucceeded(command.effect_id, responder(command))
    except SimulatedFailure as failure:
        return EffectFailed(command.effect_id, failure.error)
