"""``load_app``: a project folder or file in, a valid :class:`FlowApp` out; ``check_files``:
the same for a project held in memory (what a request sent), which touches no disk.

Data flow::

    path or files ──> flowapp.yaml (or a plain workflow file) ──parse──> SourceDocument
         ├─ plain workflow (``document`` at the top, no apiVersion/kind): wrapped
         └─ FlowApp, with config/<environment>.yaml merged into its spec if asked for:
            header, functions, triggers, delivery, limits,  ─┐ problems, located in
            retention                                        │
            workflow (inline view or workflowRef file)      ─┴─ the file they concern
                                  ──> DefinitionError(every problem) or FlowApp + digest

Every problem is collected before anything is raised, so a user sees all of them at once,
in file order, each as ``file:line:column: /pointer: message``. Every other file is read
through ``ProjectFiles`` (``project.py``), which refuses paths that leave the project.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flowapp.apps.digest import app_digest
from flowapp.apps.environments import apply_environment
from flowapp.apps.functions import function_folder, read_functions
from flowapp.apps.limits import read_limits
from flowapp.apps.model import API_VERSION, DEFAULT_NAMESPACE, FILE_NAME, KIND, FlowApp
from flowapp.apps.project import (
    DOCUMENT_LIMITS,
    FolderProject,
    MemoryProject,
    OutsideProject,
    ProjectFiles,
    read_project_source,
)
from flowapp.apps.resource import read_delivery, read_header, read_triggers
from flowapp.apps.retention import read_retention
from flowapp.apps.traffic import read_revision, read_traffic
from flowapp.apps.workflow import REF, is_plain_workflow, resolve_workflow
from flowapp.dsl.problems import DefinitionError, Problem
from flowapp.dsl.source import SourceDocument, parse_text, read_source
from flowapp.dsl.validate import ensure_valid
from flowapp.events.delivery import DeliverySpec


def load_app(path: str | os.PathLike[str], environment: str | None = None) -> FlowApp:
    """The FlowApp at ``path``: a ``flowapp.yaml``, a folder holding one, or a plain
    Serverless Workflow document (wrapped). Raises ``DefinitionError`` with every problem.

    ``environment`` merges ``config/<environment>.yaml`` into the spec (``environments``);
    an environment without a config file, or a plain workflow, changes nothing."""
    file = resource_file(Path(path))
    doc = read_source(file, limits=DOCUMENT_LIMITS)
    # Absolute, so function folders stay valid for a runtime that changes directory;
    # problems keep the file name as the user wrote it.
    return _load(doc, FolderProject(file.parent), environment)


def check_files(
    files: Mapping[str, bytes], environment: str | None = None, *, root: Path = Path(".")
) -> FlowApp:
    """The FlowApp of a project held in memory (a request's): ``flowapp.yaml`` at the root
    of ``files``. Nothing is read from disk and nothing is written; problems name files
    by their path in the project. ``root`` is where the files would be once written."""
    try:
        project = MemoryProject(files, root)
    except OutsideProject as exc:
        message = f"file {exc}"
        raise DefinitionError([Problem("", message)]) from None
    if not project.is_file(FILE_NAME):
        message = f"the project has no {FILE_NAME} at its root"
        raise DefinitionError([Problem("", message, FILE_NAME)])
    return _load(read_project_source(project, FILE_NAME), project, environment)


def _load(doc: SourceDocument, project: ProjectFiles, environment: str | None) -> FlowApp:
    if is_plain_workflow(doc.data):
        return wrap_workflow(ensure_valid(doc), project.root)
    return _load_resource(doc, project, environment)


def load_resource_data(data: dict[str, Any], *, file: str) -> FlowApp:
    """A FlowApp given as data with no project folder (a ``FlowApp`` object on Kubernetes):
    checked like ``flowapp.yaml`` except for function folders, since each function is a
    container image there. ``file`` names it in problems (``default/shop``). The workflow
    must be inline: there is no folder for a ``workflowRef`` to point into."""
    doc = parse_text(json.dumps(data, indent=1), file, what="a FlowApp")
    if isinstance(doc.data.get("spec"), dict) and "workflowRef" in doc.data["spec"]:
        message = "`workflowRef` needs a project folder: inline the workflow as `workflow`"
        raise DefinitionError([doc.problem(REF, message)])
    return _load_resource(doc, None, None)


def resource_file(path: Path) -> Path:
    """``path`` itself, or ``path/flowapp.yaml`` for a folder."""
    if not path.is_dir():
        return path
    file = path / FILE_NAME
    if not file.is_file():
        message = f"no {FILE_NAME} in this folder (create one with `flowapp init`)"
        raise DefinitionError([Problem("", message, str(path))])
    return file


def wrap_workflow(doc: SourceDocument, base_dir: Path) -> FlowApp:
    """A valid plain workflow as a FlowApp: no functions, no triggers, named after it."""
    document = doc.data["document"]
    metadata = {
        "name": document["name"],
        "namespace": document.get("namespace") or DEFAULT_NAMESPACE,
    }
    resource = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": metadata,
        "spec": {"workflow": doc.data},
    }
    return FlowApp(
        name=metadata["name"],
        namespace=metadata["namespace"],
        base_dir=base_dir,
        workflow=doc.data,
        workflow_source=doc,
        workflow_pointer="",
        functions={},
        triggers=(),
        delivery=DeliverySpec(),
        labels={},
        resource=resource,
        digest=app_digest(resource, doc.data, {}),
    )


def _load_resource(
    doc: SourceDocument, project: ProjectFiles | None, environment: str | None
) -> FlowApp:
    """``project`` None: no project folder (Kubernetes), so no folder or file is read."""
    unlocated: list[Problem] = []
    config_problems: list[Problem] = []
    resource, overlay = doc.data, None
    if environment is not None and project is not None:
        resource, overlay = apply_environment(doc, project, environment, problems=config_problems)
    header = read_header(resource, unlocated)
    declared = header.spec.get("functions")
    names = frozenset(declared) if isinstance(declared, dict) else frozenset()
    functions = read_functions(declared, project, unlocated)
    triggers = read_triggers(header.spec.get("triggers"), unlocated, app=header.name or None)
    delivery = read_delivery(header.spec.get("delivery"), names, unlocated)
    limits = read_limits(header.spec.get("limits"), unlocated)
    retention = read_retention(header.spec, unlocated)
    revision = read_revision(header.spec.get("revision"), unlocated)
    traffic = read_traffic(header.spec.get("traffic"), revision, unlocated)
    # Unknown function names are reported by the workflow's checks; declared ones whose
    # folder is broken must not be reported twice, so every declared name is known.
    files = project if project is not None else MemoryProject({})
    workflow = resolve_workflow(doc, header.spec, files, functions=names)
    located = [
        overlay.locate(doc, p) if overlay else doc.problem(p.pointer, p.message) for p in unlocated
    ]
    problems = located + config_problems + workflow.problems
    if problems or workflow.source is None:
        raise DefinitionError(_in_file_order(problems, doc.file))
    entries = declared if isinstance(declared, dict) else {}
    folders = {
        name: files.files_under(function_folder(name, entries.get(name)))
        for name in (functions if project is not None else ())
    }
    return FlowApp(
        name=header.name,
        namespace=header.namespace,
        base_dir=files.root,
        workflow=workflow.source.data,
        workflow_source=workflow.source,
        workflow_pointer=workflow.pointer,
        functions=functions,
        triggers=triggers,
        delivery=delivery,
        labels=header.labels,
        resource=resource,
        digest=app_digest(resource, workflow.source.data, folders),
        environment=environment if overlay is not None else None,
        limits=limits,
        retention=retention,
        revision=revision,
        traffic=traffic,
    )


def _in_file_order(problems: list[Problem], main_file: str) -> list[Problem]:
    """flowapp.yaml's problems first, then the workflow file's, each by line and column."""
    unique = dict.fromkeys(problems)
    return sorted(unique, key=lambda p: (p.file != main_file, p.line, p.column, p.pointer))
