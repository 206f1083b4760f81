"""Loading a FlowApp: a file or a folder, inline workflow or workflowRef, plain workflows."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowapp.apps import FlowApp, load_app
from flowapp.dsl.problems import DefinitionError
from flowapp.events.delivery import BackoffPolicy
from flowapp.triggers.nats import NatsConfig

from .conftest import MakeProject

INLINE = """\
apiVersion: flowapp.dev/v1alpha1
kind: FlowApp
metadata: {name: shop, namespace: sales, labels: {team: orders}}
spec:
  triggers:
    - name: orders
      nats: {subject: orders.created}
  functions:
    append: {runtime: python, path: functions/append, scale: {min: 0, max: 2}}
    display: {runtime: node, timeout: PT5S}
  workflow:
    document: {dsl: '1.0.3', namespace: default, name: shop, version: '1.0.0'}
    do:
      - append: {call: append, with: {suffix: "!"}}
      - display: {call: display}
  delivery: {retry: 3, backoffPolicy: linear, backoffDelay: PT0.2S, deadLetterSink: display}
"""

REFERENCED = """\
apiVersion: flowapp.dev/v1alpha1
kind: FlowApp
metadata: {name: shop}
spec:
  functions:
    append: {runtime: python, path: functions/append}
  workflowRef: workflow.yaml
"""

WORKFLOW = """\
document: {dsl: '1.0.3', namespace: default, name: shop, version: '1.0.0'}
do:
  - append:
      call: append
"""


def test_a_folder_and_its_flowapp_yaml_load_the_same_app(make_project: MakeProject) -> None:
    project = make_project(INLINE, {"append": "python", "display": "node"})
    from_folder, from_file = load_app(project), load_app(project / "flowapp.yaml")
    assert from_folder.digest == from_file.digest
    assert from_folder.name == "shop"
    assert from_folder.base_dir == project


def test_an_inline_workflow_is_read_with_everything_around_it(make_project: MakeProject) -> None:
    app = load_app(make_project(INLINE, {"append": "python", "display": "node"}))
    assert (app.namespace, app.labels) == ("sales", {"team": "orders"})
    assert app.workflow["do"][0] == {"append": {"call": "append", "with": {"suffix": "!"}}}
    assert app.workflow_pointer == "/spec/workflow"
    assert app.functions["append"].path == app.base_dir / "functions" / "append"
    assert (app.functions["append"].scale.min, app.functions["append"].scale.max) == (0, 2)
    assert app.functions["display"].runtime == "node"
    assert app.functions["display"].timeout == 5.0
    assert [(t.name, type(t.source)) for t in app.triggers] == [("orders", NatsConfig)]
    assert app.delivery.retry == 3
    assert app.delivery.backoff_policy is BackoffPolicy.LINEAR
    assert app.delivery.dead_letter_sink == "display"
    assert app.resource["metadata"]["name"] == "shop"


def test_an_inline_workflow_is_located_in_flowapp_yaml(make_project: MakeProject) -> None:
    app = load_app(make_project(INLINE, {"append": "python", "display": "node"}))
    assert app.workflow_file == app.base_dir / "flowapp.yaml"
    # Workflow pointers (the engine's task references) land on flowapp.yaml's lines.
    assert app.workflow_source.locate("/do/1/display") == (15, 18)
    assert app.workflow_source.problem("/do/0/append", "x").line == 14


def test_a_workflow_ref_is_read_from_the_file_next_to_flowapp_yaml(
    make_project: MakeProject,
) -> None:
    project = make_project(REFERENCED, {"append": "python"}, {"workflow.yaml": WORKFLOW})
    app = load_app(project)
    assert app.workflow["do"] == [{"append": {"call": "append"}}]
    assert app.workflow_pointer == ""
    assert app.workflow_file == project / "workflow.yaml"
    assert app.workflow_source.locate("/do/0/append/call") == (4, 13)
    assert app.triggers == ()
    assert app.delivery.retry == 0


def test_a_plain_workflow_is_wrapped_as_an_app_named_after_it(tmp_path: Path) -> None:
    file = tmp_path / "hello.yaml"
    file.write_text(WORKFLOW.replace("call: append", "set: {greeting: hi}"))
    app = load_app(file)
    assert isinstance(app, FlowApp)
    assert (app.name, app.namespace, app.functions, app.triggers) == ("shop", "default", {}, ())
    assert app.workflow["do"] == [{"append": {"set": {"greeting": "hi"}}}]
    assert app.resource["kind"] == "FlowApp"
    assert app.resource["spec"]["workflow"] == app.workflow


def test_a_wrapped_plain_workflow_is_validated_without_app_functions(tmp_path: Path) -> None:
    file = tmp_path / "hello.yaml"
    file.write_text(WORKFLOW)
    with pytest.raises(DefinitionError) as raised:
        load_app(file)
    [problem] = raised.value.problems
    assert (problem.file, problem.pointer, problem.line) == (str(file), "/do/0/append/call", 4)


@pytest.mark.parametrize(
    "text",
    [
        "do:\n  - greet: {set: {greeting: hi}}\n",
        "use: {}\ndo:\n  - greet: {set: {greeting: hi}}\n",
        "input: {from: .x}\ndo: []\n",
    ],
)
def test_a_workflow_without_document_gets_the_workflows_problem(tmp_path: Path, text: str) -> None:
    file = tmp_path / "hello.yaml"
    file.write_text(text)
    with pytest.raises(DefinitionError) as raised:
        load_app(file)
    [problem] = raised.value.problems
    assert (problem.pointer, problem.message) == ("", "missing required property 'document'")


def test_a_document_with_a_resources_keys_gets_the_resources_problems(tmp_path: Path) -> None:
    file = tmp_path / "flowapp.yaml"
    file.write_text("kind: FlowApp\ndo:\n  - greet: {set: {greeting: hi}}\n")
    with pytest.raises(DefinitionError) as raised:
        load_app(file)
    messages = [problem.message for problem in raised.value.problems]
    assert "missing required key `apiVersion`" in messages


def test_a_folder_without_flowapp_yaml_is_a_definition_error(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match=r"no flowapp\.yaml in this folder"):
        load_app(tmp_path)


def test_a_missing_file_is_a_definition_error(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="cannot read the file"):
        load_app(tmp_path / "nope.yaml")


def test_a_relative_path_gives_an_absolute_base_dir(
    make_project: MakeProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(INLINE, {"append": "python", "display": "node"})
    monkeypatch.chdir(project)
    app = load_app(".")
    assert app.base_dir == project
    assert app.functions["append"].path == project / "functions" / "append"
    assert app.workflow_source.file == "flowapp.yaml"  # as the user wrote it, for messages


def test_the_package_exports() -> None:
    import flowapp.apps

    assert sorted(flowapp.apps.__all__) == [
        "API_VERSION",
        "FILE_NAME",
        "FlowApp",
        "KIND",
        "function_names_called",
        "is_plain_workflow",
        "load_app",
    ]
    assert flowapp.apps.load_app is load_app
