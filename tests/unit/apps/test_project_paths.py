"""No path a FlowApp names reaches outside its project: ``workflowRef``, a function's
``path``, the environment's config file, through ``..``, an absolute path or a symbolic
link; and a problem about such a path never shows what the file outside holds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flowapp.apps import load_app
from flowapp.apps.loader import check_files
from flowapp.apps.project import FolderProject, MemoryProject, OutsideProject, project_path
from flowapp.apps.sources import read_tree
from flowapp.dsl.problems import DefinitionError, Problem

from .conftest import MakeProject

SECRET = "fa_the-admin-token-nobody-may-read"
REF_APP = """\
apiVersion: flowapp.dev/v1alpha1
kind: FlowApp
metadata: {name: shop}
spec:
  functions:
    append: {runtime: python, path: PATH}
  workflowRef: REF
"""
WORKFLOW = """\
document: {dsl: '1.0.3', namespace: default, name: shop, version: '1.0.0'}
do:
  - append: {call: append}
"""
EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "append-display"


def app_text(ref: str = "workflow.yaml", path: str = "functions/append") -> str:
    return REF_APP.replace("REF", ref).replace("PATH", path)


def problems_of(project: Path, environment: str | None = None) -> list[Problem]:
    with pytest.raises(DefinitionError) as raised:
        load_app(project, environment)
    return list(raised.value.problems)


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    """A file next to the project, as the admin token is next to the revision folders."""
    path = tmp_path / "admin-token"
    path.write_text(SECRET + "\n")
    return path


@pytest.mark.parametrize(
    "path",
    ["/etc/passwd", "../admin-token", "functions/../../admin-token", "~/x", "a\0b", "", " "],
)
def test_project_path_refuses_what_cannot_be_inside(path: str) -> None:
    with pytest.raises(OutsideProject):
        project_path(path)


@pytest.mark.parametrize(
    ("path", "normal"),
    [("workflow.yaml", "workflow.yaml"), ("./functions/a/", "functions/a"), (".", ".")],
)
def test_project_path_normalises_what_is_inside(path: str, normal: str) -> None:
    assert project_path(path) == normal


@pytest.mark.parametrize("ref", ["../admin-token", "../../../../../../../../etc/passwd"])
def test_a_workflow_ref_outside_the_project_is_not_read(
    make_project: MakeProject, secret_file: Path, ref: str
) -> None:
    project = make_project(app_text(ref), {"append": "python"})
    [problem] = problems_of(project)
    assert problem.pointer == "/spec/workflowRef"
    assert "outside the project folder" in problem.message
    assert SECRET not in str(problem) and "root:" not in str(problem)
    assert problem.file == str(project / "flowapp.yaml")


def test_an_absolute_workflow_ref_is_refused(make_project: MakeProject, secret_file: Path) -> None:
    project = make_project(app_text(str(secret_file)), {"append": "python"})
    [problem] = problems_of(project)
    assert problem.pointer == "/spec/workflowRef" and SECRET not in str(problem)


def test_a_workflow_ref_through_a_symbolic_link_out_is_not_read(
    make_project: MakeProject, secret_file: Path
) -> None:
    project = make_project(app_text("linked.yaml"), {"append": "python"})
    os.symlink(secret_file, project / "linked.yaml")
    [problem] = problems_of(project)
    assert problem.pointer == "/spec/workflowRef"
    assert "symbolic link" in problem.message and SECRET not in str(problem)


def test_a_symbolic_link_that_stays_inside_is_followed(make_project: MakeProject) -> None:
    project = make_project(app_text("linked.yaml"), {"append": "python"}, {"w.yaml": WORKFLOW})
    os.symlink("w.yaml", project / "linked.yaml")
    assert load_app(project).workflow["do"] == [{"append": {"call": "append"}}]


@pytest.mark.parametrize("path", ["../elsewhere", "/tmp", "functions/../../elsewhere"])
def test_a_function_folder_outside_the_project_is_refused(
    make_project: MakeProject, tmp_path: Path, path: str
) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "main.py").write_text("def handle(d, c): return d\n")
    project = make_project(app_text(path=path), {}, {"workflow.yaml": WORKFLOW})
    [problem] = problems_of(project)
    assert problem.pointer == "/spec/functions/append/path"
    assert "outside the project folder" in problem.message


def test_a_function_folder_linked_outside_is_refused(
    make_project: MakeProject, tmp_path: Path
) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "main.py").write_text("def handle(d, c): return d\n")
    project = make_project(app_text(), {}, {"workflow.yaml": WORKFLOW})
    (project / "functions").mkdir()
    os.symlink(tmp_path / "elsewhere", project / "functions" / "append")
    [problem] = problems_of(project)
    assert problem.pointer == "/spec/functions/append/path"
    assert "symbolic link" in problem.message


def test_an_environment_config_linked_outside_is_not_read(
    make_project: MakeProject, secret_file: Path
) -> None:
    project = make_project(app_text(), {"append": "python"}, {"workflow.yaml": WORKFLOW})
    (project / "config").mkdir()
    os.symlink(secret_file, project / "config" / "prod.yaml")
    problems = problems_of(project, "prod")
    assert [p.pointer for p in problems] == [""]
    assert "outside the project folder" in problems[0].message
    assert SECRET not in str(problems[0])


def test_a_file_linked_outside_a_function_folder_is_not_part_of_the_digest(
    make_project: MakeProject, secret_file: Path
) -> None:
    project = make_project(app_text(), {"append": "python"}, {"workflow.yaml": WORKFLOW})
    before = load_app(project).digest
    os.symlink(secret_file, project / "functions" / "append" / "token")
    assert load_app(project).digest == before
    folder = FolderProject(project)
    assert [name for name, _ in folder.files_under("functions/append")] == ["main.py"]


def test_a_project_in_memory_is_the_same_app_as_on_disk() -> None:
    on_disk = load_app(EXAMPLE)
    in_memory = check_files(read_tree(EXAMPLE))
    assert (in_memory.name, in_memory.resource) == (on_disk.name, on_disk.resource)
    assert in_memory.digest == on_disk.digest


def test_a_project_in_memory_names_its_files_by_their_path_in_it() -> None:
    files = {
        "flowapp.yaml": app_text().encode(),
        "workflow.yaml": b"do: [\n",
        "functions/append/main.py": b"def handle(data, context):\n    return data\n",
    }
    with pytest.raises(DefinitionError) as raised:
        check_files(files)
    assert {p.file for p in raised.value.problems} == {"workflow.yaml"}


def test_a_project_in_memory_refuses_a_file_outside_it() -> None:
    with pytest.raises(DefinitionError) as raised:
        check_files({"flowapp.yaml": app_text().encode(), "../x": b""})
    assert "outside the project folder" in str(raised.value)


def test_files_in_memory_answer_as_a_folder_would() -> None:
    project = MemoryProject({"functions/a/main.py": b"1", "functions/a/.venv/x": b"2"})
    assert project.is_dir("functions") and project.is_dir("./functions/a/")
    assert project.is_file("functions/a/main.py") and not project.is_file("functions/a")
    assert list(project.files_under("functions/a")) == [("main.py", b"1")]
    with pytest.raises(OutsideProject):
        project.is_file("../functions/a/main.py")
