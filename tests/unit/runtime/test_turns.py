"""A turn: its step budget shared by its signals, and its time slice."""

from __future__ import annotations

from flowapp.engine import new_state
from flowapp.engine.scope import Environment
from flowapp.engine.signals import EffectSucceeded, EventArrived, Start
from flowapp.engine.testing import workflow_from_yaml
from flowapp.runtime.deciders.base import decide_turn

HEAVY_LOOP = """
do:
  - churn:
      set: {n: '${ .n + ([range(20000)] | add) * 0 + 1 }'}
      then: churn
"""

CHEAP_LOOP = """
do:
  - spin:
      set: {n: '${ .n + 1 }'}
      then: spin
"""


def test_a_turn_of_heavy_steps_ends_with_its_time_slice_not_its_step_budget():
    model = workflow_from_yaml(HEAVY_LOOP)
    state = new_state("e1")
    decisions = decide_turn(model, state, [Start({"n": 0})], 0.0, Environment(), seconds=0.05)
    steps = sum(d.steps for d in decisions)
    assert 0 < steps < 1000 and state.has_pending_work


def test_a_turn_of_cheap_steps_ends_with_its_step_budget():
    model = workflow_from_yaml(CHEAP_LOOP)
    state = new_state("e1")
    decisions = decide_turn(model, state, [Start({"n": 0})], 0.0, Environment(), budget=300)
    assert sum(d.steps for d in decisions) == 300 and state.has_pending_work


def test_signals_past_the_slice_are_kept_for_the_next_turn():
    model = workflow_from_yaml(
        "do:\n  - a: {call: fn}\n  - b: {call: fn}\n", app_functions=frozenset({"fn"})
    )
    state = new_state("e1")
    (start,) = decide_turn(model, state, [Start({})], 0.0, Environment())
    call = start.commands[0]
    answer = EffectSucceeded(call.effect_id, {"a": 1})
    stray = EventArrived("e-unknown", {"id": "x"})
    over = iter([0.0, 0.0, 1.0])  # the slice is over once the first signal is decided
    clock = lambda: next(over, 2.0)  # noqa: E731
    decisions = decide_turn(model, state, [answer, stray], 0.0, Environment(), clock=clock)
    assert decisions[0].steps > 0 and decisions[1].steps == 0
    assert state.pending == [{"signal": {"signal": "EventArrived", **stray_json(stray)}}]
    assert [c.kind for c in decisions[0].commands] == ["call-function"]  # b was called


def stray_json(signal: EventArrived) -> dict:
    return {"effect_id": signal.effect_id, "event": signal.event}
