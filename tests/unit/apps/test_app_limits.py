"""``spec.limits``: per-app execution limits, validated with their location."""

from __future__ import annotations

import pytest

from flowapp.apps import load_app
from flowapp.engine.limits import DEFAULT_LIMITS, ExecutionLimits

from .conftest import MakeProject
from .test_app_validation import BOTH, VALID, problems_of, where


def test_without_limits_an_app_gets_the_defaults(make_project: MakeProject) -> None:
    assert load_app(make_project(VALID, BOTH)).limits == DEFAULT_LIMITS


def test_limits_set_by_the_app(make_project: MakeProject) -> None:
    text = VALID + "  limits: {taskRuns: 500, forItems: 0, stateSize: 2Mi, cpuTime: PT2.5S}\n"
    limits = load_app(make_project(text, BOTH)).limits
    assert limits == ExecutionLimits(
        task_runs=500, for_items=0, state_bytes=2 << 20, cpu_seconds=2.5
    )


def test_a_limit_left_out_keeps_its_default(make_project: MakeProject) -> None:
    limits = load_app(make_project(VALID + "  limits: {stateSize: 4096}\n", BOTH)).limits
    assert limits.state_bytes == 4096 and limits.task_runs == DEFAULT_LIMITS.task_runs


@pytest.mark.parametrize(
    ("limits", "pointer", "message"),
    [
        ("{taskRuns: 0}", "/spec/limits/taskRuns", "between 1 and 10000000"),
        ("{taskRuns: many}", "/spec/limits/taskRuns", "must be a whole number"),
        ("{forItems: 2000000}", "/spec/limits/forItems", "between 0 and 1000000"),
        ("{stateSize: 1Ti}", "/spec/limits/stateSize", "a number of bytes such as 16Mi"),
        ("{stateSize: 100}", "/spec/limits/stateSize", "between 1Ki and 64Mi"),
        ("{stateSize: 1Gi}", "/spec/limits/stateSize", "between 1Ki and 64Mi"),
        ("{cpuTime: PT2H}", "/spec/limits/cpuTime", "at most 3600 s"),
        ("{cpuTime: soon}", "/spec/limits/cpuTime", "not an ISO 8601 duration"),
        ("{cpuTime: PT0S}", "/spec/limits/cpuTime", "longer than zero"),
        ("{taskRun: 5}", "/spec/limits/taskRun", "did you mean `taskRuns`?"),
        ("[1]", "/spec/limits", "must be a mapping"),
    ],
)
def test_limit_problems_say_what_and_where(
    make_project: MakeProject, limits: str, pointer: str, message: str
) -> None:
    problems = problems_of(make_project(VALID + f"  limits: {limits}\n", BOTH))
    assert where(problems) == [(pointer, 16)]
    assert message in problems[0].message
