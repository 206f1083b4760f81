"""The digest of a FlowApp: every byte of code and configuration, and nothing built."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowapp.apps import load_app

from .conftest import MakeProject

APP = """\
apiVersion: flowapp.dev/v1alpha1
kind: FlowApp
metadata: {name: shop}
spec:
  functions:
    append: {runtime: python}
    display: {runtime: node}
  workflow:
    document: {dsl: '1.0.3', namespace: default, name: shop, version: '1.0.0'}
    do:
      - append: {call: append}
      - display: {call: display}
"""


@pytest.fixture
def project(make_project: MakeProject) -> Path:
    return make_project(APP, {"append": "python", "display": "node"})


def digest(project: Path) -> str:
    return load_app(project).digest


def test_the_digest_is_stable_and_a_sha256(project: Path) -> None:
    first = digest(project)
    assert first == digest(project)
    assert first.startswith("sha256:") and len(first) == len("sha256:") + 64


def test_changing_a_function_file_changes_the_digest(project: Path) -> None:
    before = digest(project)
    (project / "functions" / "append" / "main.py").write_text("def handle(d, c):\n    return 1\n")
    assert digest(project) != before


def test_adding_a_file_to_a_function_changes_the_digest(project: Path) -> None:
    before = digest(project)
    (project / "functions" / "display" / "lib").mkdir()
    (project / "functions" / "display" / "lib" / "util.js").write_text("module.exports = 1;\n")
    assert digest(project) != before


def test_changing_the_resource_changes_the_digest(project: Path) -> None:
    before = digest(project)
    text = APP.replace("{runtime: node}", "{runtime: node, timeout: PT5S}")
    (project / "flowapp.yaml").write_text(text)
    assert digest(project) != before


def test_reformatting_the_yaml_does_not_change_the_digest(project: Path) -> None:
    before = digest(project)
    text = APP.replace("{runtime: python}", "{ runtime: python }") + "# a comment\n"
    (project / "flowapp.yaml").write_text(text)
    assert digest(project) == before


def test_build_output_and_caches_do_not_change_the_digest(project: Path) -> None:
    before = digest(project)
    append, display = project / "functions" / "append", project / "functions" / "display"
    for folder, name in [
        (append / ".venv" / "bin", "python"),
        (append / "__pycache__", "main.cpython-311.pyc"),
        (append / ".pytest_cache", "README.md"),
        (display / "node_modules" / "left-pad", "index.js"),
        (display / ".git", "HEAD"),
    ]:
        folder.mkdir(parents=True)
        (folder / name).write_text("built")
    assert digest(project) == before


def test_a_change_in_a_workflow_ref_file_changes_the_digest(make_project: MakeProject) -> None:
    head = APP.split("  workflow:")[0] + "  workflowRef: workflow.yaml\n"
    workflow = "document: {dsl: '1.0.3', namespace: a, name: b, version: '1.0.0'}\ndo:\n"
    workflow += "  - append: {call: append}\n"
    project = make_project(head, {"append": "python", "display": "node"})
    (project / "workflow.yaml").write_text(workflow)
    before = digest(project)
    (project / "workflow.yaml").write_text(workflow + "  - display: {call: display}\n")
    assert digest(project) != before
