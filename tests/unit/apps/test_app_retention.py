"""``spec.retention``: how long an app's finished executions are kept, validated with
its location, and what the server's sweeper makes of the apps it serves."""

from __future__ import annotations

from dataclasses import replace

import pytest

from flowapp.apps import load_app
from flowapp.local.retention import app_retentions

from .conftest import MakeProject
from .test_app_validation import BOTH, VALID, problems_of, where

DAY = 86_400.0


def test_without_retention_the_server_decides(make_project: MakeProject) -> None:
    assert load_app(make_project(VALID, BOTH)).retention is None


@pytest.mark.parametrize(
    ("value", "seconds"), [("P90D", 90 * DAY), ("3600", 3600.0), ("{days: 7}", 7 * DAY)]
)
def test_retention_set_by_the_app(make_project: MakeProject, value: str, seconds: float) -> None:
    assert load_app(make_project(VALID + f"  retention: {value}\n", BOTH)).retention == seconds


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("soon", "not an ISO 8601 duration"),
        ("PT0S", "longer than zero"),
        ("P4000D", "at most ten years"),
    ],
)
def test_retention_problems_say_what_and_where(
    make_project: MakeProject, value: str, message: str
) -> None:
    problems = problems_of(make_project(VALID + f"  retention: {value}\n", BOTH))
    assert where(problems) == [("/spec/retention", 16)]
    assert message in problems[0].message


def test_the_sweeper_keeps_the_longest_retention_an_app_serves_with(
    make_project: MakeProject,
) -> None:
    app = load_app(make_project(VALID, BOTH))
    serving = [
        replace(app, retention=7 * DAY),
        replace(app, retention=90 * DAY),  # the other revision of a rollout
        replace(app, name="quiet"),  # says nothing: the server's retention
        replace(app, name="brief", retention=DAY),
    ]
    assert app_retentions(serving) == {app.name: 90 * DAY, "brief": DAY}
