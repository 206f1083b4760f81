"""``Repositories.scaffold``: the project ``flowapp init`` would write, as the first commit."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowapp.apps import load_app
from flowapp.apps.errors import ScaffoldError
from flowapp.gitrepos import EXECUTABLE, REGULAR, Repositories
from tests.unit.gitrepos.conftest import ReadCommit

WORKFLOW = {
    "document": {"dsl": "1.0.3", "namespace": "shop", "name": "orders", "version": "1.0.0"},
    "do": [
        {"append": {"call": "append", "with": {"suffix": "!"}}},
        {"check": {"call": "http", "with": {"method": "get", "endpoint": "https://x.test"}}},
        {"display": {"call": "display"}},
    ],
}


def test_a_workflow_calling_two_functions_gets_a_folder_for_each(
    repos: Repositories, read_commit: ReadCommit
) -> None:
    sha = repos.scaffold("orders", workflow=WORKFLOW)

    commit, files = read_commit("orders", sha)
    functions = {path.split("/")[1] for path in files if path.startswith("functions/")}
    assert functions == {"append", "display"}
    for function in functions:
        assert files[f"functions/{function}/main.py"].mode == REGULAR
        assert f"functions/{function}/test_main.py" in files
    assert files[".ci/test.sh"].mode == EXECUTABLE
    manifest = files["flowapp.yaml"].data.decode()
    assert "append: {runtime: python, path: functions/append}" in manifest
    assert "display: {runtime: python, path: functions/display}" in manifest
    assert commit.message == b"Create orders from its workflow\n"


def test_the_scaffolded_project_loads_as_a_flowapp(repos: Repositories, tmp_path: Path) -> None:
    sha = repos.scaffold("orders", workflow=WORKFLOW)
    repos.export("orders", sha, tmp_path / "project")

    app = load_app(tmp_path / "project")

    assert set(app.functions) == {"append", "display"}


def test_without_a_workflow_the_starter_project(
    repos: Repositories, read_commit: ReadCommit
) -> None:
    sha = repos.scaffold("hello-app", runtime="node")

    files = read_commit("hello-app", sha)[1]
    assert "functions/hello/index.js" in files
    assert "workflow.yaml" in files


@pytest.mark.parametrize(
    ("app", "options", "message"),
    [
        ("orders", {"runtime": "cobol"}, "runtime `cobol` has no template"),
        ("9lives", {}, "project name `9lives` is not valid"),
        ("orders", {"workflow": {**WORKFLOW, "do": [{"x": {"call": "Bad_Name"}}]}}, "rename"),
    ],
)
def test_refused_scaffolds_create_no_repository(
    repos: Repositories, app: str, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ScaffoldError, match=message):
        repos.scaffold(app, **options)  # type: ignore[arg-type]
    assert repos.list() == []
