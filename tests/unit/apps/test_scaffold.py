"""``init_project`` and ``new_function``: projects that load, and tests that pass as generated.

The generated unit tests are run for real (pytest and ``node --test`` in subprocesses), as
is the CI script, so a template that stops working fails here first.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flowapp.apps import load_app
from flowapp.apps.errors import ScaffoldError
from flowapp.apps.scaffold import init_project, new_function, read_workflow
from flowapp.dsl.problems import DefinitionError
from flowapp.functions.build import find_go

FROM = """\
# Drawn in the dashboard: resize, then notify.
document: {dsl: '1.0.3', namespace: media, name: thumbnails, version: '1.0.0'}
do:
  - resize: {call: resize, with: {width: 200}}
  - check: {call: http, with: {method: get, endpoint: https://example.com}}
  - notify: {call: notify}
"""
PROJECT_FILES = {
    ".ci/test.sh",
    ".github/workflows/test.yml",
    ".gitignore",
    "README.md",
    "config/dev.yaml",
    "config/prod.yaml",
    "flowapp.yaml",
    "workflow.yaml",
}
needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
needs_java = pytest.mark.skipif(shutil.which("javac") is None, reason="needs a JDK")
needs_go = pytest.mark.skipif(find_go() is None, reason="needs go")
JAVA_HOST = {
    f"src/main/java/dev/flowapp/{name}.java"
    for name in ("Context", "FunctionError", "Handler", "Host", "Logger", "TypedHandler")
}


def files_of(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def run(
    command: list[str], cwd: Path, *, timeout: float = 60, **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **env}
    environment.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout
    )


def run_pytest(folder: Path) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], folder)


def read_workflow_data(tmp_path: Path) -> dict[str, object]:
    source = tmp_path / "drawn.yaml"
    source.write_text(FROM)
    return read_workflow(source).data


def test_a_bare_project_has_every_file_and_one_example_function(tmp_path: Path) -> None:
    project = init_project(tmp_path / "shop", "shop")
    expected = PROJECT_FILES | {
        "functions/hello/main.py",
        "functions/hello/test_main.py",
        "functions/hello/requirements.txt",
        "functions/hello/pytest.ini",
    }
    assert files_of(project) == expected
    assert os.access(project / ".ci" / "test.sh", os.X_OK)
    app = load_app(project)
    assert (app.name, list(app.functions)) == ("shop", ["hello"])
    assert app.workflow_file == project / "workflow.yaml"
    assert app.triggers == ()  # no trigger the user did not ask for (a webhook is shown)
    assert "# - name: api" in (project / "flowapp.yaml").read_text().replace("#   -", "# -")


def test_the_generated_python_test_passes(tmp_path: Path) -> None:
    project = init_project(tmp_path / "shop", "shop")
    result = run_pytest(project / "functions" / "hello")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


HOSTILE_CONFTEST = 'raise RuntimeError("the conftest of the repository around was loaded")\n'
HOSTILE_PYPROJECT = """\
[tool.pytest.ini_options]
addopts = "--import-mode=importlib --strict-markers -p no:python"
testpaths = ["tests"]
filterwarnings = ["error"]
"""


def test_the_generated_tests_run_inside_a_checkout_with_its_own_pytest_setup(
    tmp_path: Path,
) -> None:
    """A project made inside another repository (its parent has a pytest configuration
    and a conftest.py that would break it) still runs its function tests as generated."""
    (tmp_path / "pyproject.toml").write_text(HOSTILE_PYPROJECT)
    (tmp_path / "conftest.py").write_text(HOSTILE_CONFTEST)
    project = init_project(tmp_path / "shop", "shop")
    new_function(project, "notify", "python")
    in_folder = run_pytest(project / "functions" / "hello")
    assert in_folder.returncode == 0, in_folder.stdout + in_folder.stderr
    assert "1 passed" in in_folder.stdout
    from_root = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                     "functions/hello"], project)  # fmt: skip
    assert from_root.returncode == 0, from_root.stdout + from_root.stderr
    script = run(["sh", ".ci/test.sh"], project, SKIP_INSTALL="1", PYTHON=sys.executable)
    assert script.returncode == 0, script.stdout + script.stderr
    assert "== hello (python)" in script.stdout and "== notify (python)" in script.stdout


@needs_node
def test_the_generated_node_test_passes(tmp_path: Path) -> None:
    project = init_project(tmp_path / "shop", "shop", runtime="node")
    assert files_of(project / "functions" / "hello") == {
        "index.js",
        "index.test.js",
        "package.json",
    }
    assert load_app(project).functions["hello"].runtime == "node"
    result = run(["node", "--test"], project / "functions" / "hello")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# pass 1" in result.stdout


@needs_go
@pytest.mark.timeout(600)  # a first Go build with an empty cache compiles std packages
def test_the_generated_go_test_passes_without_a_module_proxy(tmp_path: Path) -> None:
    project = init_project(tmp_path / "shop", "shop", runtime="go")
    new_function(project, "resize-image", "go")
    folder = project / "functions" / "resize-image"
    assert files_of(folder) == {
        "main.go",
        "main_test.go",
        "go.mod",
        "serve.go",
        "flowapp/host.go",
    }
    assert load_app(project).functions["resize-image"].runtime == "go"
    go = find_go()
    assert go is not None
    result = run([go, "test", "./..."], folder, timeout=540, GOPROXY="off", GOFLAGS="-mod=mod")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok  \tresize-image" in result.stdout


@needs_java
@pytest.mark.timeout(600)
def test_the_generated_java_test_passes_and_the_ci_script_runs_every_runtime(
    tmp_path: Path,
) -> None:
    project = init_project(tmp_path / "shop", "shop", runtime="java")
    assert files_of(project / "functions" / "hello") == {
        "pom.xml",
        "src/main/java/Hello.java",
        "src/test/java/HelloTest.java",
        *JAVA_HOST,
    }
    assert load_app(project).functions["hello"].runtime == "java"
    new_function(project, "resize", "python")
    if find_go() is not None:
        new_function(project, "thumbs", "go")
    script = [shutil.which("sh") or "/bin/sh", ".ci/test.sh"]
    go = find_go()
    path = os.pathsep.join([str(Path(go).parent)] if go else []) + os.pathsep + os.environ["PATH"]
    result = run(script, project, timeout=540, SKIP_INSTALL="1", PYTHON=sys.executable, PATH=path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "== hello (java)" in result.stdout and "HelloTest: ok" in result.stdout
    assert "== resize (python)" in result.stdout
    if go is not None:
        assert "== thumbs (go)" in result.stdout

    source = project / "functions" / "hello" / "src" / "main" / "java" / "Hello.java"
    source.write_text(source.read_text().replace('output.put("function"', 'output.put("fn"'))
    failed = run(script, project, timeout=540, SKIP_INSTALL="1", PYTHON=sys.executable, PATH=path)
    assert failed.returncode == 1
    assert "failed: hello" in failed.stderr


def test_a_project_from_a_workflow_has_a_folder_per_function_it_calls(tmp_path: Path) -> None:
    source = tmp_path / "drawn.yaml"
    source.write_text(FROM)
    workflow = read_workflow(source)
    project = init_project(
        tmp_path / "media", "media", workflow=workflow.data, workflow_text=workflow.text
    )
    assert (project / "workflow.yaml").read_text() == FROM  # verbatim, comment included
    assert sorted(p.name for p in (project / "functions").iterdir()) == ["notify", "resize"]
    app = load_app(project)
    assert sorted(app.functions) == ["notify", "resize"]
    assert app.workflow["document"]["name"] == "thumbnails"


def test_a_workflow_given_as_data_is_written_as_yaml(tmp_path: Path) -> None:
    workflow = read_workflow_data(tmp_path)
    project = init_project(tmp_path / "media", "media", workflow=workflow, runtime="node")
    app = load_app(project)
    assert app.workflow == workflow
    assert {spec.runtime for spec in app.functions.values()} == {"node"}


def test_a_workflow_calling_no_function_gets_an_empty_functions_map(tmp_path: Path) -> None:
    data = read_workflow_data(tmp_path)
    data["do"] = [{"only": {"set": {"a": 1}}}]
    project = init_project(tmp_path / "p", "p", workflow=data)
    assert load_app(project).functions == {}
    assert not (project / "functions").exists()


def test_a_call_that_cannot_name_a_function_is_refused(tmp_path: Path) -> None:
    data = read_workflow_data(tmp_path)
    data["do"] = [{"send": {"call": "sendEmail"}}]
    with pytest.raises(ScaffoldError, match="the workflow calls `sendEmail`"):
        init_project(tmp_path / "p", "p", workflow=data)
    assert not (tmp_path / "p").exists()


def test_an_invalid_source_workflow_is_reported_with_its_location(tmp_path: Path) -> None:
    source = tmp_path / "drawn.yaml"
    source.write_text(FROM.replace("{call: notify}", "{call: notify, x: 1}"))
    with pytest.raises(DefinitionError) as raised:
        read_workflow(source)
    assert raised.value.problems[0].line == 6


def test_a_flowapp_is_not_a_source_workflow(tmp_path: Path) -> None:
    init_project(tmp_path / "p", "p")
    with pytest.raises(DefinitionError, match="expected a Serverless Workflow document"):
        read_workflow(tmp_path / "p" / "flowapp.yaml")


def test_a_non_empty_folder_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ScaffoldError, match="is not empty"):
        init_project(tmp_path, "shop")
    assert files_of(tmp_path) == {"notes.txt"}


def test_an_existing_empty_folder_is_used(tmp_path: Path) -> None:
    assert load_app(init_project(tmp_path, "shop")).name == "shop"


@pytest.mark.parametrize("name", ["Shop", "shop_1", "-shop", "shop-", "sh--op", "1shop", ""])
def test_invalid_project_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ScaffoldError, match="project name"):
        init_project(tmp_path / "p", name)


def test_an_unknown_runtime_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScaffoldError, match="runtime `ruby` has no template"):
        init_project(tmp_path / "p", "p", runtime="ruby")


def test_new_function_adds_a_folder_and_keeps_flowapp_yaml_as_written(tmp_path: Path) -> None:
    project = init_project(tmp_path / "shop", "shop")
    manifest = project / "flowapp.yaml"
    before = manifest.read_text()
    folder = new_function(project, "resize", "node")
    assert folder == project / "functions" / "resize"
    after = manifest.read_text()
    added = "    resize: {runtime: node, path: functions/resize}\n"
    anchor = "    hello: {runtime: python, path: functions/hello}\n"
    assert after == before.replace(anchor, anchor + added)
    assert sorted(load_app(project).functions) == ["hello", "resize"]


@needs_node
def test_the_ci_script_runs_every_function_test(tmp_path: Path) -> None:
    project = init_project(tmp_path / "shop", "shop")
    new_function(project, "resize", "node")
    script = [shutil.which("sh") or "/bin/sh", ".ci/test.sh"]
    result = run(script, project, SKIP_INSTALL="1", PYTHON=sys.executable)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "== hello (python)" in result.stdout and "== resize (node)" in result.stdout
    (project / "functions" / "resize" / "index.js").write_text("exports.handle = () => 1;\n")
    failed = run(script, project, SKIP_INSTALL="1", PYTHON=sys.executable)
    assert failed.returncode == 1
    assert "failed: resize" in failed.stderr


def test_new_function_refusals(tmp_path: Path) -> None:
    project = init_project(tmp_path / "shop", "shop")
    before = (project / "flowapp.yaml").read_text()
    with pytest.raises(ScaffoldError, match="already declared"):
        new_function(project, "hello")
    with pytest.raises(ScaffoldError, match="function name `Resize` is not valid"):
        new_function(project, "Resize")
    with pytest.raises(ScaffoldError, match="runtime `rust` has no template"):
        new_function(project, "resize", "rust")
    (project / "functions" / "stray").mkdir()
    with pytest.raises(ScaffoldError, match="already exists"):
        new_function(project, "stray")
    assert (project / "flowapp.yaml").read_text() == before
    with pytest.raises(ScaffoldError, match=r"has no flowapp\.yaml"):
        new_function(tmp_path, "resize")
