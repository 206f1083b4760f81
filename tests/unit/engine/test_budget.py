"""A decision's step budget and an execution's limits, on the pure engine.

A decision that uses up its budget leaves its work in the state; a ``Continue`` goes on
with it. Where the decisions are cut must never change what an execution does.
"""

from __future__ import annotations

import pytest

from flowapp.engine import decide, new_state
from flowapp.engine.limits import ExecutionLimits
from flowapp.engine.signals import (
    Abort,
    Cancel,
    Continue,
    EffectSucceeded,
    Resume,
    Start,
    Suspend,
)
from flowapp.engine.state import ExecutionState
from flowapp.engine.testing import SimulatedFailure, simulate
from flowapp.engine.testing import workflow_from_yaml as workflow

COUNT_TO_50 = """
do:
  - add:
      set: {n: '${ .n + 1 }'}
  - again:
      switch:
        - more: {when: .n < 50, then: add}
        - done: {then: continue}
"""

FOREVER = """
do:
  - spin:
      set: {n: '${ .n + 1 }'}
      then: spin
"""


def test_a_decision_stops_at_its_budget_and_continue_goes_on():
    wf = workflow(COUNT_TO_50)
    state = new_state("e1")
    first = decide(wf, state, Start({"n": 0}), 0.0, budget=10)
    assert first.steps == 10
    assert state.status == "running" and state.has_pending_work
    decisions = 1
    while state.has_pending_work:
        decide(wf, state, Continue(), 1.0, budget=10)
        decisions += 1
    assert state.status == "completed" and state.output == {"n": 50}
    assert decisions > 10  # 50 rounds of two tasks, two steps each, ten steps at a time


def test_an_endless_loop_is_cut_into_decisions_then_faults_at_the_task_run_limit():
    wf = workflow(FOREVER)
    sim = simulate(wf, {"n": 0}, budget=100, limits=ExecutionLimits(task_runs=1000))
    assert sim.status == "faulted"
    error = sim.error
    assert error["type"].endswith("/errors/runtime") and error["status"] == 429
    assert error["title"] == "Execution limit exceeded" and error["limit"] == "taskRuns"
    assert error["instance"] == "/do/0/spin"
    assert "1,000 tasks" in error["detail"]
    assert len(sim.runs) == 1000 and sim.decisions > 10


def test_a_try_cannot_catch_a_limit():
    wf = workflow(
        """
        do:
          - guarded:
              try:
                - spin:
                    set: {n: '${ .n + 1 }'}
                    then: spin
              catch:
                do:
                  - rescued: {set: {rescued: true}}
        """
    )
    sim = simulate(wf, {"n": 0}, limits=ExecutionLimits(task_runs=50))
    assert sim.status == "faulted" and sim.error["limit"] == "taskRuns"
    assert "rescued" not in sim.names()


def test_a_for_over_more_items_than_its_limit_faults_before_its_first_iteration():
    wf = workflow(
        """
        do:
          - loop:
              for: {in: '[range(11)]', each: i}
              do:
                - each: {set: {i: '${ $i }'}}
        """
    )
    sim = simulate(wf, {}, limits=ExecutionLimits(for_items=10))
    assert sim.status == "faulted"
    assert sim.error["limit"] == "forItems" and sim.error["instance"] == "/do/0/loop"
    assert "11 items" in sim.error["detail"] and "10 items" in sim.error["detail"]
    assert "each" not in sim.names()
    assert simulate(wf, {}, limits=ExecutionLimits(for_items=11)).status == "completed"


def test_a_for_with_an_empty_body_does_not_recurse_per_item():
    wf = workflow("do:\n  - loop:\n      for: {in: '[range(5000)]', each: i}\n      do: []\n")
    assert simulate(wf, {"kept": 1}).output == {"kept": 1}


def test_cancel_takes_effect_at_once_and_drops_the_work_left():
    wf = workflow(FOREVER)
    state = new_state("e1")
    decide(wf, state, Start({"n": 0}), 0.0, budget=5)
    assert state.has_pending_work
    decide(wf, state, Cancel("enough"), 1.0, budget=5)
    assert state.status == "cancelled" and state.pending == []
    assert not state.has_pending_work


def test_abort_faults_with_the_runtime_s_error():
    wf = workflow(FOREVER)
    state = new_state("e1")
    decide(wf, state, Start({"n": 0}), 0.0, budget=5)
    error = {"type": "https://x/limit", "status": 429, "title": "over", "instance": "/"}
    decision = decide(wf, state, Abort(error), 1.0)
    assert state.status == "faulted" and state.error == error and state.pending == []
    assert state.frames == {} and [t.status for t in decision.transitions] == ["faulted"]


def test_suspend_keeps_the_work_left_until_resume():
    wf = workflow(COUNT_TO_50)
    state = new_state("e1")
    decide(wf, state, Start({"n": 0}), 0.0, budget=5)
    decide(wf, state, Suspend(), 1.0, budget=5)
    assert state.status == "suspended" and state.pending and not state.has_pending_work
    progress = state.run_sequence
    decide(wf, state, Continue(), 2.0, budget=5)
    assert state.run_sequence == progress  # nothing runs while suspended
    decide(wf, state, Resume(), 3.0)
    assert state.status == "completed" and state.output == {"n": 50}


def test_a_result_is_applied_after_the_work_left_before_it():
    wf = workflow(
        """
        do:
          - both:
              fork:
                branches:
                  - remote: {call: fn}
                  - local:
                      do:
                        - a: {set: {step: a}}
                        - b: {set: {step: b}}
                        - c: {set: {step: c}}
        """,
        app_functions=frozenset({"fn"}),
    )
    state = new_state("e1")
    start = decide(wf, state, Start({}), 0.0, budget=3)
    call = next(c for c in start.commands if c.kind == "call-function")
    assert state.has_pending_work
    answer = decide(wf, state, EffectSucceeded(call.effect_id, {"remote": 1}), 1.0, budget=100)
    assert state.status == "completed"
    assert state.output == [{"remote": 1}, {"step": "c"}]
    ended = [r.name for r in answer.task_runs if r.status == "completed"]
    assert ended.index("c") < ended.index("remote")  # the work left first, then the answer


def test_the_state_saves_and_loads_its_work_limits_and_usage():
    wf = workflow(COUNT_TO_50)
    state = new_state("e1", ExecutionLimits(task_runs=7_000, cpu_seconds=2.5))
    decide(wf, state, Start({"n": 0}), 0.0, budget=7)
    state.cpu_seconds, state.crashes = 0.25, 1
    loaded = ExecutionState.from_json(state.to_json())
    assert loaded.pending == state.pending and loaded.pending
    assert loaded.limits == ExecutionLimits(task_runs=7_000, cpu_seconds=2.5)
    assert (loaded.cpu_seconds, loaded.crashes) == (0.25, 1)
    while loaded.has_pending_work:
        decide(wf, loaded, Continue(), 1.0, budget=7)
    assert loaded.output == {"n": 50}
    assert new_state("e2").to_json()["limits"] is None  # the defaults are not written out


def _flaky_function():
    calls: list[str] = []

    def answer(command):
        calls.append(command.function)
        if command.function == "flaky" and calls.count("flaky") < 3:
            raise SimulatedFailure({"type": "https://x/busy", "status": 503, "title": "busy"})
        return {command.function: len(calls)}

    return answer


SCENARIOS = {
    "count": (COUNT_TO_50, {"n": 0}, {}),
    "for-while": (
        """
        do:
          - loop:
              for: {in: '[range(30)]', each: i}
              while: '.total < 200'
              do:
                - add: {set: {total: '${ .total + $i }'}}
                - check:
                    switch:
                      - odd: {when: '$i % 2 == 1', then: continue}
                      - even: {then: exit}
          - after: {set: {total: '${ .total }', done: true}}
        """,
        {"total": 0},
        {},
    ),
    "fork-compete": (
        """
        do:
          - race:
              fork:
                compete: true
                branches:
                  - slow:
                      do:
                        - s1: {set: {who: s1}}
                        - s2: {set: {who: s2}}
                        - s3: {set: {who: s3}}
                        - s4: {set: {who: s4}}
                  - fast: {set: {who: fast}}
          - tail: {set: {winner: '${ .who }'}}
        """,
        {},
        {},
    ),
    "retry-and-loop": (
        """
        do:
          - attempt:
              try:
                - call: {call: flaky}
              catch:
                retry:
                  delay: PT1S
                  limit: {attempt: {count: 5}}
          - spin:
              for: {in: '[range(6)]', each: i}
              do:
                - call2: {call: steady, with: {i: '${ $i }'}}
                - mark: {set: '${ . + {last: $i} }'}
          - stop: {set: {done: true}, then: end}
          - never: {set: {never: true}}
        """,
        {},
        {"functions": "flaky"},
    ),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
@pytest.mark.parametrize("budget", [1, 2, 3, 7])
def test_where_decisions_are_cut_never_changes_the_outcome(name, budget):
    text, data, options = SCENARIOS[name]
    functions = frozenset({"flaky", "steady"})

    def run(**cut):
        kwargs = {"functions": _flaky_function()} if options else {}
        return simulate(workflow(text, app_functions=functions), data, **kwargs, **cut)

    whole, cut = run(), run(budget=budget, reload=True)
    assert whole.status == "completed"
    assert (cut.status, cut.output) == (whole.status, whole.output)

    def runs(sim):
        return [(r.id, r.name, r.occurrence, r.status, r.output) for r in sim.task_runs()]

    assert runs(cut) == runs(whole)
    assert [c.to_json() for c in cut.commands] == [c.to_json() for c in whole.commands]
    assert cut.decisions > whole.decisions or budget > 1  # one step at a time cuts always


def test_skipped_runs_are_recorded_so_they_count_toward_the_task_run_limit():
    wf = workflow("""
    do:
      - spin:
          for: {in: '${ [range(100)] }', each: i}
          do:
            - never: {if: 'false', set: {x: 1}}
    """)
    sim = simulate(wf, {}, limits=ExecutionLimits(task_runs=50))
    assert sim.status == "faulted" and sim.error["limit"] == "taskRuns"
    assert len(sim.task_runs()) <= 50
