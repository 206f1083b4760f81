"""``config/<environment>.yaml`` merged into the spec, and its problems located in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowapp.apps import load_app
from flowapp.dsl.problems import DefinitionError, Problem
from flowapp.functions.spec import ScaleSpec

from .conftest import MakeProject
from .test_app_validation import BOTH, VALID

PROD = """\
# what differs in production
triggers:
  orders: {nats: {url: nats://nats.prod:4222, durable: shop-prod}}
functions:
  append:
    env: {LOG_LEVEL: info}
    scale: {min: 2, max: 4}
  display: {scale: null}
delivery: {retry: 7}
"""


def project_with(make_project: MakeProject, config: dict[str, str], yaml: str = VALID) -> Path:
    return make_project(yaml, BOTH, files={f"config/{k}.yaml": v for k, v in config.items()})


def problems_of(project: Path, environment: str) -> list[Problem]:
    with pytest.raises(DefinitionError) as raised:
        load_app(project, environment)
    return list(raised.value.problems)


def test_an_environment_merges_its_settings_into_the_spec(make_project: MakeProject) -> None:
    with_scale = VALID.replace(
        "display: {runtime: node, path: functions/display}",
        "display: {runtime: node, path: functions/display, scale: {max: 9}}",
    )
    project = project_with(make_project, {"prod": PROD}, with_scale)
    plain = load_app(project)
    prod = load_app(project, "prod")

    (trigger,) = prod.triggers
    assert trigger.source.servers == ("nats://nats.prod:4222",)
    assert trigger.source.durable == "shop-prod"
    assert trigger.source.subject == "orders.created"  # kept from flowapp.yaml
    assert dict(prod.functions["append"].env) == {"LOG_LEVEL": "info"}
    assert (prod.functions["append"].scale.min, prod.functions["append"].scale.max) == (2, 4)
    assert plain.functions["display"].scale.max == 9
    assert prod.functions["display"].scale == ScaleSpec()  # `null` removed it: the default
    assert prod.delivery.retry == 7
    assert prod.environment == "prod" and plain.environment is None
    assert prod.digest != plain.digest  # another environment is another revision
    assert prod.workflow == plain.workflow


def test_an_environment_without_a_config_file_changes_nothing(make_project: MakeProject) -> None:
    project = project_with(make_project, {"dev": "# nothing yet\n"})
    plain = load_app(project)
    assert load_app(project, "staging").digest == plain.digest
    commented_only = load_app(project, "dev")
    assert commented_only.resource == plain.resource


def test_problems_of_a_config_file_are_located_in_it(make_project: MakeProject) -> None:
    config = """\
triggers:
  order: {nats: {url: nats://x:4222}}
  orders: {name: renamed}
functions:
  append: {scale: {min: -1}}
  resize: {env: {A: b}}
workflow: {do: []}
delivery: 3
"""
    project = project_with(make_project, {"prod": config})
    problems = problems_of(project, "prod")
    file = str(project / "config" / "prod.yaml")
    assert {p.file for p in problems} == {file}
    found = {(p.pointer, p.line): p.message for p in problems}
    assert set(found) == {
        ("/triggers/order", 2),
        ("/triggers/orders/name", 3),
        ("/functions/append/scale/min", 5),
        ("/functions/resize", 6),
        ("/workflow", 7),
        ("/delivery", 8),
    }
    assert "declares no trigger `order` (its triggers: `orders`)" in found[("/triggers/order", 2)]
    assert "no function `resize`" in found[("/functions/resize", 6)]
    assert "`workflow` cannot be set per environment" in found[("/workflow", 7)]


def test_problems_in_flowapp_yaml_stay_there_beside_the_config_files(
    make_project: MakeProject,
) -> None:
    broken = VALID.replace("{runtime: python, path: functions/append}", "{runtime: cobol}")
    project = project_with(
        make_project, {"prod": "functions:\n  append: {scale: {max: 0}}\n"}, broken
    )
    problems = problems_of(project, "prod")
    files = [(Path(p.file).name, p.pointer) for p in problems]
    assert ("flowapp.yaml", "/spec/functions/append/runtime") in files
    assert ("prod.yaml", "/functions/append/scale/max") in files


def test_a_config_file_that_does_not_parse_or_is_not_a_mapping(make_project: MakeProject) -> None:
    project = project_with(make_project, {"bad": "triggers: [\n", "list": "- a\n"})
    (syntax,) = problems_of(project, "bad")
    assert syntax.file.endswith("config/bad.yaml") and syntax.line >= 1
    (shape,) = problems_of(project, "list")
    assert shape.message.startswith("an environment's config file must be a mapping")


@pytest.mark.parametrize("name", ["../flowapp", "Prod", "a/b", "", "-x"])
def test_environment_names_are_checked(make_project: MakeProject, name: str) -> None:
    project = project_with(make_project, {})
    (problem,) = problems_of(project, name)
    assert "is not an environment name" in problem.message
