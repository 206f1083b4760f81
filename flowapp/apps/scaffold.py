"""Creating FlowApp projects and functions from the templates in ``templates/``.

``init_project`` writes a whole project: ``flowapp.yaml`` (triggers, functions,
delivery) referring to a separate ``workflow.yaml``, one folder per function with its
code, dependency file and unit test, ``config/``, a README, ``.gitignore`` and a CI job.
The workflow lives in its own file because it is the part a dashboard regenerates and a
user edits most: kept apart, a redrawn workflow never rewrites the hand-tuned resource,
diffs stay readable, and a workflow given with ``--from`` is copied verbatim, comments
included.

``new_function`` adds one function folder and registers it in ``flowapp.yaml`` with a
text edit that leaves the rest of the file as it was (``yamledit``).

Nothing is written until every check passed: a refused request leaves no partial project.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from flowapp.apps.errors import ScaffoldError
from flowapp.apps.model import FILE_NAME
from flowapp.apps.names import function_name_problem, project_name_problem
from flowapp.apps.project import DOCUMENT_LIMITS
from flowapp.apps.templates import (
    EXECUTABLE,
    FUNCTION_FILES,
    PROJECT_FILES,
    STARTER_WORKFLOW,
    render,
)
from flowapp.apps.workflow import function_names_called, is_plain_workflow
from flowapp.apps.yamledit import add_function_entry
from flowapp.dsl.problems import DefinitionError, Problem
from flowapp.dsl.source import parse_text
from flowapp.dsl.validate import ensure_valid
from flowapp.functions.build import GO_HOST, JAVA_HOST, go_serve_file

RUNTIMES = tuple(FUNCTION_FILES)
STARTER_FUNCTION = "hello"
WORKFLOW_FILE = "workflow.yaml"  # where a scaffolded project keeps its workflow


@dataclass(frozen=True, slots=True)
class WorkflowFile:
    """A workflow to start a project from: its data and its text, comments included."""

    data: dict[str, Any]
    text: str


def read_workflow(path: str | os.PathLike[str]) -> WorkflowFile:
    """A valid plain workflow file; ``DefinitionError`` with every problem otherwise.

    The functions it calls count as known: the project about to be created defines them.
    """
    file = os.fspath(path)
    try:
        text = Path(path).read_text("utf-8-sig")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise DefinitionError([Problem("", f"cannot read the file: {reason}", file)]) from None
    except UnicodeDecodeError:
        raise DefinitionError([Problem("", "the file is not UTF-8 text", file)]) from None
    doc = parse_text(text, file, limits=DOCUMENT_LIMITS)
    if not is_plain_workflow(doc.data):
        message = "expected a Serverless Workflow document (with `document` and `do`)"
        raise DefinitionError([doc.problem("", message)])
    called = frozenset(function_names_called(doc.data))
    return WorkflowFile(ensure_valid(doc, known_functions=called).data, text)


def init_project(
    target_dir: str | os.PathLike[str],
    name: str,
    *,
    workflow: Mapping[str, Any] | None = None,
    runtime: str = "python",
    workflow_text: str | None = None,
) -> Path:
    """Create a project named ``name`` in ``target_dir`` (new or empty); return the folder.

    Without ``workflow`` the project has a starter workflow calling one function,
    ``hello``; with one, it gets a folder for every function the workflow calls, all in
    ``runtime``. ``workflow_text``, the text ``workflow`` was read from, is written as
    is so its comments survive (``read_workflow`` gives both).
    """
    target = Path(target_dir)
    _refuse(project_name_problem(name))
    _check_runtime(runtime)
    _check_empty(target)
    _write(
        target,
        render_project(name, workflow=workflow, runtime=runtime, workflow_text=workflow_text),
    )
    return target


def render_project(
    name: str,
    *,
    workflow: Mapping[str, Any] | None = None,
    runtime: str = "python",
    workflow_text: str | None = None,
) -> dict[str, str]:
    """The files ``init_project`` writes, by relative path, without writing anything;
    ``ScaffoldError`` if the name, the runtime or a called function's name is refused."""
    _refuse(project_name_problem(name))
    _check_runtime(runtime)
    functions = _functions_of(workflow)
    files = _project_files(name, functions, runtime, _workflow_text(name, workflow, workflow_text))
    for function in functions:
        files.update(_function_files(name, function, runtime, prefix=f"functions/{function}/"))
    return files


def new_function(project_dir: str | os.PathLike[str], name: str, runtime: str = "python") -> Path:
    """Add ``functions/<name>/`` to a project and declare it in its flowapp.yaml."""
    project = Path(project_dir)
    manifest = project / FILE_NAME
    if not manifest.is_file():
        raise ScaffoldError(
            f"{project} has no {FILE_NAME}: create a project with `flowapp init`, "
            "or point --dir at one"
        )
    _refuse(function_name_problem(name))
    _check_runtime(runtime)
    entry = {"runtime": runtime, "path": f"functions/{name}"}
    text = add_function_entry(_read_manifest(manifest), name, entry)
    folder = project / "functions" / name
    if folder.exists():
        raise ScaffoldError(f"{folder} already exists: remove it or choose another name")
    _write(folder, _function_files(_app_name(text, project), name, runtime, prefix=""))
    manifest.write_bytes(text.encode("utf-8"))
    return folder


def function_files(app: str, name: str, runtime: str, *, prefix: str = "") -> dict[str, str]:
    """The files of a new function folder (code template, dependencies, unit test)."""
    _check_runtime(runtime)
    return _function_files(app, name, runtime, prefix=prefix)


def _read_manifest(manifest: Path) -> str:
    # Bytes, not read_text: universal newlines would turn a CRLF file into an LF one.
    try:
        return manifest.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ScaffoldError(f"{manifest} is not UTF-8 text") from None


def _functions_of(workflow: Mapping[str, Any] | None) -> list[str]:
    if workflow is None:
        return [STARTER_FUNCTION]
    functions = sorted(function_names_called(workflow))
    for function in functions:
        problem = function_name_problem(function)
        if problem is not None:
            raise ScaffoldError(f"the workflow calls `{function}`: {problem}; rename the call")
    return functions


def _workflow_text(name: str, workflow: Mapping[str, Any] | None, text: str | None) -> str:
    if workflow is None:
        return render(STARTER_WORKFLOW, {"app": name})
    if text is not None:
        return text
    yaml = YAML(typ="rt", pure=True)
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    yaml.dump(dict(workflow), out)
    return out.getvalue()


def _project_files(name: str, functions: list[str], runtime: str, workflow: str) -> dict[str, str]:
    values = {
        "app": name,
        "functions": _functions_block(functions, runtime),
    }
    files = {target: render(template, values) for target, template in PROJECT_FILES.items()}
    files[WORKFLOW_FILE] = workflow
    return files


def _functions_block(functions: Iterable[str], runtime: str) -> str:
    lines = [f"\n    {f}: {{runtime: {runtime}, path: functions/{f}}}" for f in functions]
    return "".join(lines) or " {}"


def _function_files(app: str, name: str, runtime: str, *, prefix: str) -> dict[str, str]:
    class_name = "".join(part.capitalize() for part in name.split("-"))
    if class_name[:1].isdigit():  # a Java class name cannot start with a digit
        class_name = "F" + class_name
    values = {
        "app": app,
        "name": name,
        "class_name": class_name,
        "app_package": "app." + app.replace("-", "_"),
        "go_module": name,
    }
    templates = FUNCTION_FILES[runtime]
    files = {
        prefix + file.replace("{{class_name}}", class_name): render(template, values)
        for file, template in templates.items()
    }
    # The host is written into the folder, so the function builds and tests with its own
    # tools alone (go test, mvn); flowapp builds with the folder's copy too.
    files.update({prefix + file: text for file, text in host_files(runtime, name).items()})
    return files


def host_files(runtime: str, module: str) -> dict[str, str]:
    """flowapp's host sources that a Java or Go function folder carries."""
    if runtime == "java":
        return {
            f"src/main/java/dev/flowapp/{source.name}": source.read_text("utf-8")
            for source in sorted(JAVA_HOST.glob("*.java"))
        }
    if runtime == "go":
        files = {
            f"flowapp/{source.name}": source.read_text("utf-8")
            for source in sorted((GO_HOST / "flowapp").glob("*.go"))
        }
        files["serve.go"] = go_serve_file(module)
        return files
    return {}


def _app_name(manifest_text: str, project: Path) -> str:
    """For the templates' comments: ``metadata.name``, else the project folder's name."""
    metadata = parse_text(manifest_text).data.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) else project.resolve().name


def _write(target: Path, files: Mapping[str, str]) -> None:
    for relative, text in files.items():
        path = target / relative
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, "utf-8")
            if relative in EXECUTABLE:
                path.chmod(0o755)
        except OSError as exc:
            raise ScaffoldError(f"cannot write {path}: {exc.strerror or exc}") from None


def _check_empty(target: Path) -> None:
    if target.exists() and not target.is_dir():
        raise ScaffoldError(f"{target} exists and is not a folder")
    if target.is_dir() and any(target.iterdir()):
        raise ScaffoldError(
            f"{target} is not empty: flowapp init creates a project in a new or empty "
            "folder and never overwrites files (choose another --dir)"
        )


def _check_runtime(runtime: str) -> None:
    if runtime not in RUNTIMES:
        raise ScaffoldError(f"runtime `{runtime}` has no template: use {' or '.join(RUNTIMES)}")


def _refuse(problem: str | None) -> None:
    if problem is not None:
        raise ScaffoldError(problem)
