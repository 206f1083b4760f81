"""How ``FakePlatform`` reads a FlowApp: the real parser and workflow checks, no folders.

The local platform loads a project folder (``flowapp.apps.load_app``): function folders
must exist and triggers are parsed by their broker packages. A fake has no folders and
should not load every broker client, so this reads what an API test needs with the same
building blocks (``parse_text``, ``validate_source``, ``resolve_workflow``) and the same
locations in its problems:

- a plain workflow is validated and wrapped, named after ``document.name``;
- a FlowApp needs ``apiVersion``, ``kind``, ``metadata.name`` (a DNS label) and a
  workflow, inline (``spec.workflow``) or, in an uploaded project, by reference
  (``spec.workflowRef``), validated with ``spec.functions`` as known functions;
- ``spec.triggers`` items with ``http: {path}`` become webhooks; nothing else of them
  is checked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from flowapp.apps.model import API_VERSION, DEFAULT_NAMESPACE, FILE_NAME, KIND
from flowapp.apps.names import dns_label_problem
from flowapp.apps.project import MemoryProject, OutsideProject
from flowapp.apps.scaffold import WORKFLOW_FILE
from flowapp.apps.workflow import REF, ResolvedWorkflow, is_plain_workflow, resolve_workflow
from flowapp.dsl.problems import DefinitionError, Problem
from flowapp.dsl.source import SourceDocument, parse_text
from flowapp.dsl.validate import validate_source


@dataclass(frozen=True, slots=True)
class Resource:
    """A valid FlowApp as the fake keeps it."""

    name: str
    namespace: str
    resource: dict[str, Any]
    workflow: dict[str, Any]
    functions: frozenset[str]
    webhooks: dict[str, dict[str, Any]] = field(default_factory=dict)  # path -> http trigger

    @property
    def digest(self) -> str:
        return hashlib.sha256(orjson.dumps(self.resource, option=orjson.OPT_SORT_KEYS)).hexdigest()


def read_resource(
    text: str, filename: str = FILE_NAME, *, files: Mapping[str, bytes] | None = None
) -> tuple[Resource | None, list[Problem]]:
    """The resource in ``text``, or None and every problem found in it. ``files`` are the
    project's other files, where a ``workflowRef`` is looked up."""
    try:
        doc = parse_text(text, filename)
    except DefinitionError as error:
        return None, list(error.problems)
    if is_plain_workflow(doc.data):
        # As on the platform: the workflow the user wrote is the project's workflow file.
        problems = validate_source(replace(doc, file=WORKFLOW_FILE))
        return (None if problems else _wrapped(doc.data)), problems
    return _flowapp(doc, files or {})


def _wrapped(workflow: dict[str, Any]) -> Resource:
    document = workflow["document"]
    metadata = {"name": document["name"], "namespace": document.get("namespace", "default")}
    resource = {"apiVersion": API_VERSION, "kind": KIND, "metadata": metadata}
    resource["spec"] = {"workflow": workflow}
    return Resource(metadata["name"], metadata["namespace"], resource, workflow, frozenset())


def _flowapp(
    doc: SourceDocument, files: Mapping[str, bytes]
) -> tuple[Resource | None, list[Problem]]:
    data = doc.data
    problems = [doc.problem(pointer, message) for pointer, message in _header_problems(data)]
    spec: dict[str, Any] = data["spec"] if isinstance(data.get("spec"), dict) else {}
    declared = spec.get("functions")
    functions = frozenset(declared) if isinstance(declared, dict) else frozenset()
    workflow = _workflow(doc, spec, functions, files)
    problems += workflow.problems
    if problems or workflow.source is None:
        return None, problems
    metadata: dict[str, Any] = data["metadata"]
    namespace = metadata.get("namespace") or DEFAULT_NAMESPACE
    webhooks = _webhooks(spec.get("triggers"))
    resource = Resource(
        metadata["name"], namespace, data, workflow.source.data, functions, webhooks
    )
    return resource, []


def _header_problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    if data.get("apiVersion") != API_VERSION:
        found.append(("/apiVersion", f"apiVersion must be {API_VERSION}"))
    if data.get("kind") != KIND:
        found.append(("/kind", f"kind must be {KIND}"))
    metadata = data.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    problem = dns_label_problem(name, "metadata.name")
    if problem:
        found.append(("/metadata/name" if isinstance(metadata, dict) else "/metadata", problem))
    if not isinstance(data.get("spec"), dict):
        found.append(("/spec", "spec must be a mapping with a workflow"))
    return found


def _workflow(
    doc: SourceDocument, spec: dict[str, Any], functions: frozenset[str], files: Mapping[str, bytes]
) -> ResolvedWorkflow:
    try:
        project = MemoryProject(files)
    except OutsideProject as exc:
        return ResolvedWorkflow(None, problems=[doc.problem(REF, str(exc))])
    return resolve_workflow(doc, spec, project, functions=functions)


def _webhooks(triggers: Any) -> dict[str, dict[str, Any]]:
    hooks = {}
    for trigger in triggers if isinstance(triggers, list) else []:
        http = trigger.get("http") if isinstance(trigger, dict) else None
        if isinstance(http, dict) and isinstance(http.get("path"), str):
            hooks[http["path"]] = http
    return hooks


def project_resource(files: Mapping[str, bytes]) -> tuple[Resource | None, list[Problem]]:
    """The FlowApp of an uploaded project (its ``flowapp.yaml``)."""
    raw = files.get(FILE_NAME)
    if raw is None:
        return None, [Problem("", f"the project has no {FILE_NAME} at its root", FILE_NAME)]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, [Problem("", "the file is not UTF-8 text", FILE_NAME, 1, 1)]
    return read_resource(text, FILE_NAME, files=files)
