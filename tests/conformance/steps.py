"""Runs a Gherkin scenario on the real runtime (real HTTP to local stand-ins, a real store).

Step vocabulary: the conformance kit's (see the spec's ctk/README.md), plus a few of our
own for what the kit does not cover: events to offer to `listen` tasks, secrets, extra
workflows for `run: workflow`, task statuses and attempts, and lifecycle events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML

from flowapp.dsl.source import parse_text
from flowapp.dsl.validate import ensure_valid
from flowapp.engine.scope import Environment
from flowapp.runtime.deciders.base import Decider
from flowapp.runtime.embedded import run_to_completion
from flowapp.runtime.registry import WorkflowRegistry
from flowapp.runtime.runtime import Outcome
from flowapp.store.port import Store, TaskRunRecord
from tests.conformance.gherkin import QUOTED, Scenario, Step
from tests.conformance.standins import rewrite

_yaml = YAML(typ="safe")


def load_yaml(text: str | None) -> Any:
    return _yaml.load(text or "null")


@dataclass
class World:
    base_url: str
    store: Store
    definition: str | None = None
    input: Any = None
    events: list[dict[str, Any]] = field(default_factory=list)
    secrets: dict[str, Any] = field(default_factory=dict)
    workflows: list[str] = field(default_factory=list)
    outcome: Outcome | None = None
    runs: list[TaskRunRecord] = field(default_factory=list)
    lifecycle: list[dict[str, Any]] = field(default_factory=list)
    decider: Decider | None = None

    def names(self) -> list[str]:
        return [run.name for run in self.runs]


def lookup(value: Any, path: str) -> Any:
    for part in path.split("."):
        assert isinstance(value, dict) and part in value, f"no property '{path}' in {value!r}"
        value = value[part]
    return value


def is_subset(expected: Any, actual: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and is_subset(v, actual[k]) for k, v in expected.items()
        )
    return bool(expected == actual)


async def execute(world: World) -> None:
    assert world.definition is not None, "the scenario defines no workflow"
    registry = WorkflowRegistry(world.store)
    for text in world.workflows:
        registry.add(ensure_valid(parse_text(rewrite(text, world.base_url))).data)
    document = ensure_valid(parse_text(rewrite(world.definition, world.base_url), "scenario.yaml"))
    workflow = registry.add(document.data)
    execution_id, outcome = await run_to_completion(
        world.store,
        registry,
        workflow,
        world.input,
        env=Environment(secrets=world.secrets),
        events=world.events,
        timeout=30,
        lifecycle=world.lifecycle.extend,
        decider=world.decider,
    )
    world.outcome = outcome
    world.runs = world.store.task_runs(execution_id)


async def run_step(world: World, step: Step) -> None:
    text = step.text.removeprefix("given ").strip()
    for pattern, handler in _STEPS:
        match = pattern.fullmatch(text)
        if match:
            result = handler(world, step, match)
            if result is not None:
                await result
            return
    raise AssertionError(f"line {step.line}: no step matches `{step.text}`")


async def run_scenario(world: World, scenario: Scenario) -> None:
    for step in scenario.steps:
        await run_step(world, step)


def _given_definition(world: World, step: Step, match: re.Match[str]) -> None:
    world.definition = step.doc


def _given_input(world: World, step: Step, match: re.Match[str]) -> None:
    world.input = load_yaml(step.doc)


def _given_events(world: World, step: Step, match: re.Match[str]) -> None:
    world.events = list(load_yaml(step.doc))


def _given_secrets(world: World, step: Step, match: re.Match[str]) -> None:
    world.secrets = dict(load_yaml(step.doc))


def _given_workflow(world: World, step: Step, match: re.Match[str]) -> None:
    assert step.doc is not None
    world.workflows.append(step.doc)


def _when_executed(world: World, step: Step, match: re.Match[str]) -> Any:
    return execute(world)


def _outcome(world: World) -> Outcome:
    assert world.outcome is not None, "the workflow was not executed"
    return world.outcome


def _should_complete(world: World, step: Step, match: re.Match[str]) -> None:
    outcome = _outcome(world)
    assert outcome.status == "completed", f"status {outcome.status}, error {outcome.error}"
    if match.group(1):
        assert outcome.output == load_yaml(step.doc), f"output {outcome.output!r}"


def _should_fault(world: World, step: Step, match: re.Match[str]) -> None:
    outcome = _outcome(world)
    assert outcome.status == "faulted", f"status {outcome.status}, output {outcome.output!r}"
    if match.group(1):
        expected = load_yaml(step.doc)
        assert is_subset(expected, outcome.error), f"error {outcome.error!r}"


def _should_be_cancelled(world: World, step: Step, match: re.Match[str]) -> None:
    assert _outcome(world).status == "cancelled"


def _has_properties(world: World, step: Step, match: re.Match[str]) -> None:
    output = _outcome(world).output
    for path in QUOTED.findall(match.group(1)):
        lookup(output, path)


def _property_value(world: World, step: Step, match: re.Match[str]) -> None:
    actual = lookup(_outcome(world).output, match.group(1))
    assert actual == load_yaml(step.doc), f"'{match.group(1)}' is {actual!r}"


def _property_count(world: World, step: Step, match: re.Match[str]) -> None:
    actual = lookup(_outcome(world).output, match.group(1))
    assert len(actual) == int(match.group(2)), f"'{match.group(1)}' is {actual!r}"


def _runs_first_last(world: World, step: Step, match: re.Match[str]) -> None:
    names = world.names()
    position = 0 if match.group(2) == "first" else -1
    assert names and names[position] == match.group(1), f"tasks ran in order {names}"


def _runs_relative(world: World, step: Step, match: re.Match[str]) -> None:
    names = world.names()
    task, relation, other = match.groups()
    assert task in names and other in names, f"tasks ran: {names}"
    after = names.index(task) > names.index(other)
    assert after == (relation == "after"), f"tasks ran in order {names}"


def _task_status(world: World, step: Step, match: re.Match[str]) -> None:
    task, status = match.groups()
    statuses = [run.status for run in world.runs if run.name == task]
    assert statuses and statuses[-1] == status, f"{task} runs: {statuses}"


def _task_attempts(world: World, step: Step, match: re.Match[str]) -> None:
    task, count = match.groups()
    runs = [run for run in world.runs if run.name == task]
    assert len(runs) == int(count), f"{task} ran {len(runs)} times"


def _task_not_run(world: World, step: Step, match: re.Match[str]) -> None:
    """No run of the task, or only runs recorded as skipped (its ``if`` was false)."""
    ran = [run.name for run in world.runs if run.status != "skipped"]
    assert match.group(1) not in ran, f"tasks ran: {ran}"


def _task_skipped(world: World, step: Step, match: re.Match[str]) -> None:
    statuses = [run.status for run in world.runs if run.name == match.group(1)]
    assert statuses == ["skipped"], f"{match.group(1)} runs: {statuses}"


def _lifecycle(world: World, step: Step, match: re.Match[str]) -> None:
    """Each expected event (type and, optionally, task) appears, in this order."""
    seen = [(e["type"], e["data"].get("task")) for e in world.lifecycle]
    position = 0
    for expected in load_yaml(step.doc):
        wanted = (expected["type"], expected.get("task"))
        while position < len(seen) and (
            seen[position][0] != wanted[0]
            or (wanted[1] is not None and seen[position][1] != wanted[1])
        ):
            position += 1
        assert position < len(seen), f"{wanted} not found in order among {seen}"
        position += 1


_STEPS = [
    (re.compile(r"a workflow with definition:"), _given_definition),
    (re.compile(r"the workflow input is:"), _given_input),
    (re.compile(r"the events are:"), _given_events),
    (re.compile(r"the secrets are:"), _given_secrets),
    (re.compile(r"another workflow with definition:"), _given_workflow),
    (re.compile(r"the workflow is executed"), _when_executed),
    (re.compile(r"the workflow should complete( with output:)?"), _should_complete),
    (re.compile(r"the workflow should fault( with error:)?"), _should_fault),
    (re.compile(r"the workflow should be cancelled"), _should_be_cancelled),
    (re.compile(r"the workflow output should have properties (.+)"), _has_properties),
    (
        re.compile(r"the workflow output should have an? '([^']+)' property with value:"),
        _property_value,
    ),
    (
        re.compile(
            r"the workflow output should have an? '([^']+)' property containing (\d+) items"
        ),
        _property_count,
    ),
    (re.compile(r"(\S+) should run (first|last)"), _runs_first_last),
    (re.compile(r"(\S+) should run (after|before) (\S+)"), _runs_relative),
    (re.compile(r"(\S+) should have (completed|faulted|cancelled)"), _task_status),
    (re.compile(r"(\S+) should have run (\d+) times?"), _task_attempts),
    (re.compile(r"(\S+) should not have run"), _task_not_run),
    (re.compile(r"(\S+) should have been skipped"), _task_skipped),
    (re.compile(r"the lifecycle events should include, in order:"), _lifecycle),
]
