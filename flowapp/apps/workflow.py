"""The workflow a FlowApp runs: inline (``spec.workflow``) or in a file (``spec.workflowRef``).

Either way the result is a ``SourceDocument`` of the workflow alone, validated by the same
code as ``flowapp validate`` with the app's function names as known functions:

- inline, it is a view of ``flowapp.yaml`` (``sub_document``): the file is parsed once,
  problems are reported at ``/spec/workflow/...`` on the lines of ``flowapp.yaml``;
- by reference, the file next to ``flowapp.yaml`` is read and its problems are reported
  against that file, with the workflow's own pointers.

``function_names_called`` walks every task list of a document for the functions a
project must provide code for.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from flowapp.apps.project import OutsideProject, ProjectFiles, read_project_source
from flowapp.apps.subdocument import sub_document, under
from flowapp.dsl.problems import DefinitionError, Problem
from flowapp.dsl.schema import BUILTIN_CALLS
from flowapp.dsl.source import SourceDocument
from flowapp.dsl.validate import validate_source

INLINE = "/spec/workflow"
REF = "/spec/workflowRef"
# Where a task holds more tasks (the places ``flowapp.dsl.checks`` walks).
_CHILD_LISTS = (
    ("do",),
    ("try",),
    ("catch", "do"),
    ("fork", "branches"),
    ("foreach", "do"),
    ("with", "subscription", "foreach", "do"),
)


@dataclass(frozen=True, slots=True)
class ResolvedWorkflow:
    """The workflow's document (None if unusable), where it sits in its file, its problems."""

    source: SourceDocument | None
    pointer: str = ""
    problems: list[Problem] = field(default_factory=list)


def resolve_workflow(
    doc: SourceDocument,
    spec: Mapping[str, Any],
    project: ProjectFiles,
    *,
    functions: frozenset[str],
) -> ResolvedWorkflow:
    """The workflow of the FlowApp parsed as ``doc``; ``functions`` are the app's names."""
    inline, ref = spec.get("workflow"), spec.get("workflowRef")
    if inline is not None and ref is not None:
        message = "give either `workflow` (inline) or `workflowRef` (a file), not both"
        return ResolvedWorkflow(None, problems=[doc.problem(REF, message)])
    if inline is not None:
        return _inline(doc, inline, functions)
    if ref is not None:
        return _referenced(doc, ref, project, functions)
    message = (
        "missing `workflow` (an inline Serverless Workflow document) or "
        "`workflowRef` (the name of a workflow file next to flowapp.yaml)"
    )
    return ResolvedWorkflow(None, problems=[doc.problem("/spec", message)])


def _inline(doc: SourceDocument, inline: Any, functions: frozenset[str]) -> ResolvedWorkflow:
    if not isinstance(inline, dict):
        message = "must be a Serverless Workflow document: a mapping with `document` and `do`"
        return ResolvedWorkflow(None, problems=[doc.problem(INLINE, message)])
    source = sub_document(doc, INLINE)
    problems = under(INLINE, validate_source(source, known_functions=functions))
    return ResolvedWorkflow(source, INLINE, problems)


def _referenced(
    doc: SourceDocument, ref: Any, project: ProjectFiles, functions: frozenset[str]
) -> ResolvedWorkflow:
    """The file ``ref`` names, read only once it is known to be inside the project: a
    problem about any other file would show what it holds to whoever sent the resource."""
    if not isinstance(ref, str) or not ref.strip():
        message = "must be the name of a workflow file next to flowapp.yaml"
        return ResolvedWorkflow(None, problems=[doc.problem(REF, message)])
    try:
        if not project.is_file(ref):
            return ResolvedWorkflow(None, problems=[doc.problem(REF, f"file {ref} does not exist")])
        source = read_project_source(project, ref)
    except OutsideProject as exc:
        message = f"file {exc}"
        return ResolvedWorkflow(None, problems=[doc.problem(REF, message)])
    except DefinitionError as error:  # syntax: reported against the workflow file
        return ResolvedWorkflow(None, problems=list(error.problems))
    return ResolvedWorkflow(source, "", validate_source(source, known_functions=functions))


# Top-level keys only a workflow has, and only a FlowApp resource has.
WORKFLOW_KEYS = frozenset({"document", "do", "use", "input", "output", "schedule", "timeout"})
RESOURCE_KEYS = frozenset({"apiVersion", "kind", "metadata", "spec"})


def is_plain_workflow(data: Mapping[str, Any]) -> bool:
    """A Serverless Workflow document rather than a FlowApp resource (which gets wrapped).

    A document that has a workflow's keys and none of a resource's is a workflow, even
    without ``document``: its problems are then a workflow's (``document`` is missing),
    not a resource's (``apiVersion``, ``kind``, ``metadata`` and ``spec`` are)."""
    if any(key in data for key in RESOURCE_KEYS):
        return False
    return any(key in data for key in WORKFLOW_KEYS)


def function_names_called(document: Mapping[str, Any]) -> set[str]:
    """Every function a workflow calls that the project must provide code for.

    That is each ``call:`` value, in any task list (nested ones, ``use.functions``
    bodies and extensions included), that is not a built-in call type (http, openapi,
    ...), not a function the workflow defines itself under ``use.functions``, and not a
    cataloged (``name:version@catalog``) or URI function.
    """
    defined = _mapping(_mapping(document.get("use")).get("functions"))
    names: set[str] = set()
    for task in _tasks(document):
        call = task.get("call")
        if isinstance(call, str) and _is_project_function(call, defined):
            names.add(call)
    return names


def _is_project_function(call: str, defined: Mapping[str, Any]) -> bool:
    external = "@" in call or "://" in call
    return call not in BUILTIN_CALLS and call not in defined and not external


def _tasks(document: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    # Defensive throughout: scaffolding may walk a document nobody has validated yet.
    yield from _task_list(document.get("do"))
    use = _mapping(document.get("use"))
    for task in _mapping(use.get("functions")).values():
        yield from _task(task)
    for item in _list(use.get("extensions")):
        for extension in _mapping(item).values():
            for side in ("before", "after"):
                yield from _task_list(_mapping(extension).get(side))


def _task_list(items: Any) -> Iterator[dict[str, Any]]:
    for item in _list(items):
        for task in _mapping(item).values():
            yield from _task(task)


def _task(task: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(task, dict):
        return
    yield task
    for path in _CHILD_LISTS:
        child: Any = task
        for key in path:
            child = _mapping(child).get(key)
        yield from _task_list(child)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
