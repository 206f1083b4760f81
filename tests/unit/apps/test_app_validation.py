"""Every problem of a FlowApp is reported at once, with file, line, column and pointer."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowapp.apps import load_app
from flowapp.dsl.problems import DefinitionError, Problem

from .conftest import MakeProject

VALID = """\
apiVersion: flowapp.dev/v1alpha1
kind: FlowApp
metadata: {name: shop}
spec:
  triggers:
    - name: orders
      nats: {subject: orders.created}
  functions:
    append: {runtime: python, path: functions/append}
    display: {runtime: node, path: functions/display}
  workflow:
    document: {dsl: '1.0.3', namespace: default, name: shop, version: '1.0.0'}
    do:
      - append: {call: append}
      - display: {call: display}
"""
BOTH = {"append": "python", "display": "node"}


def problems_of(project: Path) -> list[Problem]:
    with pytest.raises(DefinitionError) as raised:
        load_app(project)
    return list(raised.value.problems)


def where(problems: list[Problem]) -> list[tuple[str, int]]:
    return [(p.pointer, p.line) for p in problems]


def only(project: Path) -> Problem:
    [problem] = problems_of(project)
    assert problem.file == str(project / "flowapp.yaml")
    return problem


def test_the_valid_app_loads(make_project: MakeProject) -> None:
    assert load_app(make_project(VALID, BOTH)).name == "shop"


@pytest.mark.parametrize(
    ("old", "new", "pointer", "line", "message"),
    [
        ("v1alpha1", "v2", "/apiVersion", 1, "is not supported: this is `apiVersion: flowapp"),
        ("apiVersion: flowapp.dev/v1alpha1\n", "", "", 1, "missing required key `apiVersion`"),
        ("kind: FlowApp", "kind: Flow", "/kind", 2, "`kind: Flow` is not supported"),
        ("name: shop}", "name: Shop_1}", "/metadata/name", 3, "not a DNS-1123 label"),
        ("{name: shop}", "{}", "/metadata", 3, "missing required key `name`"),
        ("  triggers:", "  trigers:", "/spec/trigers", 5, "did you mean `triggers`?"),
        # the misspelt key and, at /spec, the workflow it fails to give
        ("  workflow:", "  workflo:", "/spec/workflo", 11, "did you mean `workflow`?"),
    ],
)
def test_header_and_spec_keys(
    make_project: MakeProject, old: str, new: str, pointer: str, line: int, message: str
) -> None:
    problems = problems_of(make_project(VALID.replace(old, new, 1), BOTH))
    [problem] = [p for p in problems if p.pointer == pointer]
    assert problem.line == line
    assert message in problem.message


def test_a_missing_function_folder(make_project: MakeProject) -> None:
    problem = only(make_project(VALID, {"display": "node"}))
    assert (problem.pointer, problem.line, problem.column) == ("/spec/functions/append/path", 9, 37)
    assert problem.message == "folder functions/append does not exist"


def test_a_python_folder_without_main_py(make_project: MakeProject) -> None:
    project = make_project(VALID, BOTH)
    (project / "functions" / "append" / "main.py").rename(project / "functions/append/app.py")
    problem = only(project)
    assert (problem.pointer, problem.line) == ("/spec/functions/append/path", 9)
    assert problem.message.startswith("folder functions/append has no main.py")


def test_a_node_folder_without_index_js(make_project: MakeProject) -> None:
    project = make_project(VALID, BOTH)
    (project / "functions" / "display" / "index.js").unlink()
    problem = only(project)
    assert (problem.pointer, problem.line) == ("/spec/functions/display/path", 10)
    assert "has no index.js" in problem.message


def test_a_default_path_is_reported_on_the_entry(make_project: MakeProject) -> None:
    text = VALID.replace("{runtime: node, path: functions/display}", "{runtime: node}")
    problem = only(make_project(text, {"append": "python"}))
    assert (problem.pointer, problem.line) == ("/spec/functions/display", 10)
    assert problem.message == "folder functions/display does not exist"


def test_a_path_outside_the_project(make_project: MakeProject) -> None:
    text = VALID.replace("path: functions/append", "path: ../elsewhere")
    problem = only(make_project(text, BOTH))
    assert problem.pointer == "/spec/functions/append/path"
    assert "outside the project folder" in problem.message


@pytest.mark.parametrize(
    ("settings", "pointer", "message"),
    [
        ("scale: {min: 3, max: 2}", "/scale/min", "`min` (3) must not exceed `max` (2)"),
        ("scale: {min: 9}", "/scale/min", "must not exceed `max` (4, the default)"),
        ("scale: {max: 0}", "/scale/max", "`max` must be between 1 and 1000, not 0"),
        ("scale: {concurrency: x}", "/scale/concurrency", "must be a whole number"),
        ("scale: {mx: 3}", "/scale/mx", "unknown key `mx` (did you mean `max`?)"),
        ("runtime: ruby", "/runtime", "`runtime` must be one of python, node, java, go, command"),
        ("runtime: command", "", "runtime `command` needs a `command`"),
        ("timeout: PT0S", "/timeout", "`timeout` must be longer than zero"),
        ("idlePeriod: soon", "/idlePeriod", "is not an ISO 8601 duration"),
        ("env: {A: [1]}", "/env/A", "must be a string, number or boolean"),
        ("paht: x", "/paht", "unknown key `paht` (did you mean `path`?)"),
    ],
)
def test_function_settings(
    make_project: MakeProject, settings: str, pointer: str, message: str
) -> None:
    text = VALID.replace("{runtime: python, path: functions/append}", f"{{{settings}}}")
    problem = only(make_project(text, BOTH))
    assert (problem.pointer, problem.line) == ("/spec/functions/append" + pointer, 9)
    assert message in problem.message


def test_a_function_name_must_be_a_dns_label(make_project: MakeProject) -> None:
    text = VALID.replace("    append: {runtime", "    Append_It: {runtime")
    text = text.replace("call: append", "call: Append_It")
    problem = only(make_project(text, {"Append_It": "python", "display": "node"}))
    assert (problem.pointer, problem.line) == ("/spec/functions/Append_It", 9)
    assert "function name `Append_It` is not valid" in problem.message


def test_two_triggers_with_one_name(make_project: MakeProject) -> None:
    text = VALID.replace(
        "      nats: {subject: orders.created}\n",
        "      nats: {subject: orders.created}\n"
        "    - name: orders\n      http: {path: /o, public: true}\n",
    )
    problem = only(make_project(text, BOTH))
    assert (problem.pointer, problem.line) == ("/spec/triggers/1/name", 8)
    assert "trigger name `orders` is already used" in problem.message


def test_trigger_problems_are_moved_under_spec_triggers(make_project: MakeProject) -> None:
    text = VALID.replace("{subject: orders.created}", "{subjet: orders.created}")
    problems = problems_of(make_project(text, BOTH))
    assert where(problems) == [("/spec/triggers/0/nats", 7), ("/spec/triggers/0/nats/subjet", 7)]
    assert "did you mean `subject`?" in problems[1].message


def test_delivery_problems(make_project: MakeProject) -> None:
    text = VALID + "  delivery: {retry: -1, backoffPolicy: soon, deadLetterSink: nobody}\n"
    problems = problems_of(make_project(text, BOTH))
    assert where(problems) == [
        ("/spec/delivery/retry", 16),
        ("/spec/delivery/backoffPolicy", 16),
        ("/spec/delivery/deadLetterSink", 16),
    ]
    assert "names no subscriber" in problems[2].message


def test_a_dead_letter_sink_may_name_a_function(make_project: MakeProject) -> None:
    text = VALID + "  delivery: {retry: 1, deadLetterSink: display}\n"
    assert load_app(make_project(text, BOTH)).delivery.dead_letter_sink == "display"


def test_an_unknown_function_in_an_inline_workflow(make_project: MakeProject) -> None:
    text = VALID.replace("- display: {call: display}", "- display: {call: show}")
    problem = only(make_project(text, BOTH))
    assert (problem.pointer, problem.line, problem.column) == (
        "/spec/workflow/do/1/display/call",
        15,
        25,
    )
    assert problem.message.startswith("function 'show' is not defined")


def test_a_call_to_a_function_with_a_broken_folder_is_reported_once(
    make_project: MakeProject,
) -> None:
    problem = only(make_project(VALID, {"display": "node"}))
    assert problem.pointer == "/spec/functions/append/path"


def test_schema_problems_of_an_inline_workflow(make_project: MakeProject) -> None:
    text = VALID.replace("name: shop, version: '1.0.0'", "name: shop")
    problem = only(make_project(text, BOTH))
    assert (problem.pointer, problem.line) == ("/spec/workflow/document", 12)
    assert "version" in problem.message


def test_problems_of_a_workflow_ref_are_reported_against_its_file(
    make_project: MakeProject,
) -> None:
    head = VALID.split("  workflow:")[0]
    workflow = "document: {dsl: '1.0.3', namespace: a, name: b, version: '1.0.0'}\ndo:\n"
    workflow += "  - append: {call: append}\n  - show: {call: show}\n"
    project = make_project(head + "  workflowRef: flow.yaml\n", BOTH, {"flow.yaml": workflow})
    [problem] = problems_of(project)
    assert (problem.file, problem.pointer, problem.line) == (
        str(project / "flow.yaml"),
        "/do/1/show/call",
        4,
    )


def test_a_missing_workflow_ref_file(make_project: MakeProject) -> None:
    head = VALID.split("  workflow:")[0]
    problem = only(make_project(head + "  workflowRef: flow.yaml\n", BOTH))
    assert (problem.pointer, problem.line) == ("/spec/workflowRef", 11)
    assert problem.message == "file flow.yaml does not exist"


def test_a_syntax_error_in_a_workflow_ref_file(make_project: MakeProject) -> None:
    head = VALID.split("  workflow:")[0]
    files = {"flow.yaml": "document: {dsl: '1.0.3'\ndo: []\n"}
    [problem] = problems_of(make_project(head + "  workflowRef: flow.yaml\n", BOTH, files))
    assert problem.file.endswith("flow.yaml")
    assert "YAML syntax error" in problem.message


def test_workflow_and_workflow_ref_together(make_project: MakeProject) -> None:
    problem = only(make_project(VALID + "  workflowRef: flow.yaml\n", BOTH))
    assert (problem.pointer, problem.line) == ("/spec/workflowRef", 16)
    assert "not both" in problem.message


def test_no_workflow_at_all(make_project: MakeProject) -> None:
    head = VALID.split("  workflow:")[0]
    problem = only(make_project(head, BOTH))
    assert (problem.pointer, problem.line) == ("/spec", 4)
    assert "missing `workflow`" in problem.message


def test_every_problem_is_reported_at_once_in_file_order(make_project: MakeProject) -> None:
    text = (
        VALID.replace("kind: FlowApp", "kind: App")
        .replace("{subject: orders.created}", "{}")
        .replace("{call: display}", "{call: show}")
        + "  delivery: {retry: many}\n"
    )
    problems = problems_of(make_project(text, {"append": "python"}))
    assert where(problems) == [
        ("/kind", 2),
        ("/spec/triggers/0/nats", 7),
        ("/spec/functions/display/path", 10),
        ("/spec/workflow/do/1/display/call", 15),
        ("/spec/delivery/retry", 16),
    ]
    assert str(problems[0]).startswith(f"{problems[0].file}:2:7: /kind: ")
