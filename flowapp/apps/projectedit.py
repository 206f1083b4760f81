"""An app's project as files (path -> bytes), as the dashboard reads and changes it.

    files --workflow_file--> which file holds the workflow, and where in it
    files --function_entries--> each function declared or called: runtime, folder, code?
    files --with_function--> the files plus functions/<name>/ and its flowapp.yaml entry

The same checks and templates as ``flowapp new function`` (``scaffold``, ``yamledit``):
what the dashboard creates is what the CLI would have. Pure over the files: callers
load them from the app's repository and commit what comes back.

Each reads YAML that whoever holds a developer token may have pushed, under the limits of
a request's documents (``project.DOCUMENT_LIMITS``, its time budget included), and takes
as long as that reading does: the API calls these in a worker thread, never on its event
loop.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from flowapp.apps import project
from flowapp.apps.errors import ScaffoldError
from flowapp.apps.model import FILE_NAME
from flowapp.apps.names import function_name_problem
from flowapp.apps.scaffold import RUNTIMES, function_files
from flowapp.apps.workflow import function_names_called
from flowapp.apps.yamledit import add_function_entry
from flowapp.dsl.problems import DefinitionError, join_pointer
from flowapp.dsl.source import DocumentTooLarge, parse_text

Files = Mapping[str, bytes]
INLINE = "/spec/workflow"


@dataclass(frozen=True, slots=True)
class WorkflowFile:
    path: str  # the file holding the workflow, relative to the project
    base: str  # the workflow's JSON pointer in that file: "" or "/spec/workflow"


@dataclass(frozen=True, slots=True)
class FunctionEntry:
    name: str
    runtime: str | None
    path: str | None
    declared: bool  # in flowapp.yaml's spec.functions
    has_code: bool  # its folder holds files
    called_by: tuple[str, ...]  # pointers of the tasks that call it


def manifest_data(files: Files) -> dict[str, Any]:
    """flowapp.yaml's data; ``ScaffoldError`` if the project has none or it is unreadable."""
    raw = files.get(FILE_NAME)
    if raw is None:
        raise ScaffoldError(f"the project has no {FILE_NAME}")
    try:
        data = _parse(raw, FILE_NAME)
    except DocumentTooLarge as error:
        reason = error.problems[0].message
        raise ScaffoldError(f"{FILE_NAME} cannot be read ({reason}): fix it first") from None
    except (UnicodeDecodeError, DefinitionError):
        raise ScaffoldError(f"{FILE_NAME} cannot be read: fix it first") from None
    if not isinstance(data, dict):
        raise ScaffoldError(f"{FILE_NAME} is not a FlowApp")
    return data


def _spec(data: Mapping[str, Any]) -> dict[str, Any]:
    spec = data.get("spec")
    return spec if isinstance(spec, dict) else {}


def _parse(raw: bytes, file: str) -> Any:
    return parse_text(raw.decode("utf-8-sig"), file, limits=project.DOCUMENT_LIMITS).data


def workflow_file(files: Files) -> WorkflowFile:
    """Where the workflow is: the ``workflowRef`` file, else inline in flowapp.yaml."""
    return _workflow_file(manifest_data(files))


def _workflow_file(manifest: Mapping[str, Any]) -> WorkflowFile:
    ref = _spec(manifest).get("workflowRef")
    if isinstance(ref, str) and ref.strip():
        return WorkflowFile(ref.strip().removeprefix("./"), "")
    return WorkflowFile(FILE_NAME, INLINE)


def workflow_data(files: Files) -> dict[str, Any]:
    """The workflow document's data ({} when it cannot be read)."""
    return _workflow_data(files, manifest_data(files))


def _workflow_data(files: Files, manifest: Mapping[str, Any]) -> dict[str, Any]:
    location = _workflow_file(manifest)
    if location.base:
        inline = _spec(manifest).get("workflow")
        return inline if isinstance(inline, dict) else {}
    raw = files.get(location.path)
    try:
        document = _parse(raw, location.path) if raw else None
    except (UnicodeDecodeError, DefinitionError):
        return {}
    return document if isinstance(document, dict) else {}


def function_entries(files: Files) -> list[FunctionEntry]:
    """Every function flowapp.yaml declares or the workflow calls, by name."""
    manifest = manifest_data(files)
    declared = _spec(manifest).get("functions")
    declared = declared if isinstance(declared, dict) else {}
    workflow = _workflow_data(files, manifest)
    callers = _callers(workflow)
    names = sorted({*declared, *function_names_called(workflow)})
    return [_entry(name, declared.get(name), name in declared, callers, files) for name in names]


def _entry(
    name: str, spec: Any, declared: bool, callers: dict[str, list[str]], files: Files
) -> FunctionEntry:
    spec = spec if isinstance(spec, dict) else {}
    runtime = spec.get("runtime") if isinstance(spec.get("runtime"), str) else None
    path = spec.get("path") if isinstance(spec.get("path"), str) else None
    folder = (path or "").strip("/").removeprefix("./")
    has_code = bool(folder) and any(file.startswith(folder + "/") for file in files)
    return FunctionEntry(name, runtime, path, declared, has_code, tuple(callers.get(name, ())))


def _callers(workflow: Mapping[str, Any]) -> dict[str, list[str]]:
    callers: dict[str, list[str]] = {}
    for pointer, task in _tasks(workflow.get("do"), "/do"):
        call = task.get("call")
        if isinstance(call, str):
            callers.setdefault(call, []).append(pointer)
    return callers


_CHILD_LISTS = (("do",), ("try",), ("catch", "do"), ("fork", "branches"))


def _tasks(items: Any, pointer: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for index, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict) or len(item) != 1:
            continue
        name, task = next(iter(item.items()))
        if not isinstance(task, dict):
            continue
        here = join_pointer(pointer, index, str(name))
        yield here, task
        for keys in _CHILD_LISTS:
            child: Any = task
            for key in keys:
                child = child.get(key) if isinstance(child, dict) else None
            yield from _tasks(child, join_pointer(here, *keys))


def with_function(files: Files, app: str, name: str, runtime: str) -> dict[str, bytes]:
    """``files`` with ``functions/<name>/`` from the runtime's templates and its entry in
    flowapp.yaml (a text edit that keeps the file's comments). ``ScaffoldError`` if the
    name or runtime is refused, or the function or its folder exists."""
    problem = function_name_problem(name)
    if problem is not None:
        raise ScaffoldError(problem)
    if runtime not in RUNTIMES:
        raise ScaffoldError(f"runtime `{runtime}` has no template: use {' or '.join(RUNTIMES)}")
    folder = f"functions/{name}"
    if any(path.startswith(folder + "/") for path in files):
        raise ScaffoldError(f"{folder} exists already")
    manifest = files[FILE_NAME].decode("utf-8-sig") if FILE_NAME in files else ""
    manifest_data(files)  # readable, or a clear error
    text = add_function_entry(manifest, name, {"runtime": runtime, "path": folder})
    added = function_files(app, name, runtime, prefix=folder + "/")
    return {
        **files,
        FILE_NAME: text.encode("utf-8"),
        **{path: body.encode("utf-8") for path, body in added.items()},
    }
