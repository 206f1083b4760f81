"""Environments: ``config/<environment>.yaml`` merged into a FlowApp's ``spec``.

What differs between environments and is not a secret (broker URLs, a function's
environment variables, scale, delivery) lives in ``config/<environment>.yaml``, keyed like
``spec`` except that triggers are keyed by name::

    triggers:
      orders: {nats: {url: nats://nats.prod:4222}}
    functions:
      append: {env: {LOG_LEVEL: info}, scale: {min: 1}}
    delivery: {retry: 5}

Each entry is merged into what ``flowapp.yaml`` says as a JSON Merge Patch (RFC 7386):
mappings merge key by key, ``null`` removes a key, any other value replaces. The workflow
cannot be changed per environment: an environment changes where and how an app runs, not
what it does.

The merged spec is checked as if it had been written whole, and each problem is located
in the file that wrote the value: one the environment set points into its config file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowapp.apps.project import OutsideProject, ProjectFiles, read_project_source
from flowapp.dsl.problems import DefinitionError, Problem, join_pointer, split_pointer
from flowapp.dsl.source import SourceDocument

ENVIRONMENT_NAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
SECTIONS = ("triggers", "functions", "delivery")


def config_file(base_dir: Path, environment: str) -> Path:
    return base_dir / "config" / f"{environment}.yaml"


@dataclass
class Overlay:
    """An environment's config file, and where each value it set came from: a pointer in
    the merged resource -> the pointer in the config file that wrote it."""

    source: SourceDocument
    origins: dict[str, str] = field(default_factory=dict)

    def locate(self, resource_doc: SourceDocument, problem: Problem) -> Problem:
        """A problem of the merged resource, located in the file that wrote its value."""
        tokens = split_pointer(problem.pointer)
        for end in range(len(tokens), 0, -1):  # the longest prefix the environment set
            origin = self.origins.get(join_pointer("", *tokens[:end]))
            if origin is not None:
                return self.source.problem(join_pointer(origin, *tokens[end:]), problem.message)
        return resource_doc.problem(problem.pointer, problem.message)


def check_environment_name(environment: str, project: ProjectFiles) -> None:
    if not ENVIRONMENT_NAME.fullmatch(environment):
        message = (
            f"`{environment}` is not an environment name: lowercase letters, digits and "
            "dashes, as in `dev` or `prod-eu`"
        )
        raise DefinitionError([Problem("", message, project.show("config"))])


def apply_environment(
    doc: SourceDocument, project: ProjectFiles, environment: str, *, problems: list[Problem]
) -> tuple[dict[str, Any], Overlay | None]:
    """``doc``'s resource with ``config/<environment>.yaml`` merged into its spec (as it is
    when the environment has no config file). The config file's own problems, located in
    it, are added to ``problems``; the valid part of it is still applied."""
    check_environment_name(environment, project)
    relative = f"config/{environment}.yaml"
    try:
        if not project.is_file(relative):
            return doc.data, None
        source = read_project_source(
            project, relative, allow_empty=True, what="an environment's config file"
        )
    except OutsideProject as exc:
        problems.append(Problem("", f"config file {exc}", project.show("config")))
        return doc.data, None
    except DefinitionError as error:
        problems.extend(error.problems)
        return doc.data, None
    overlay = Overlay(source)
    spec = doc.data.get("spec")
    if not isinstance(spec, dict):
        return doc.data, overlay  # flowapp.yaml's own problems say so
    merged = dict(spec)
    for key, value in source.data.items():
        where = join_pointer("", key)
        if key not in SECTIONS:
            problems.append(source.problem(where, _not_configurable(key)))
        elif key == "delivery":
            if _is_mapping(source, where, value, "delivery settings", problems):
                merged[key] = _merge(spec.get(key), value, "/spec/delivery", where, overlay)
        elif _is_mapping(source, where, value, f"{key} by name", problems):
            merged[key] = _merge_named(key, spec.get(key), value, source, overlay, problems)
    return {**doc.data, "spec": merged}, overlay


def _not_configurable(key: str) -> str:
    listed = ", ".join(f"`{s}`" for s in SECTIONS)
    return f"`{key}` cannot be set per environment: a config file sets only {listed}"


def _is_mapping(
    source: SourceDocument, where: str, value: Any, what: str, problems: list[Problem]
) -> bool:
    if isinstance(value, dict):
        return True
    problems.append(source.problem(where, f"expected a mapping of {what}"))
    return False


def _merge_named(
    section: str,
    entries: Any,
    patches: dict[str, Any],
    source: SourceDocument,
    overlay: Overlay,
    problems: list[Problem],
) -> Any:
    """Patches by name into ``spec.triggers`` (a list of items with a ``name``) or
    ``spec.functions`` (a mapping by name)."""
    kind = section.removesuffix("s")
    slots: dict[str, Any]
    if section == "triggers":
        items: Any = list(entries) if isinstance(entries, list) else []
        slots = {t["name"]: i for i, t in enumerate(items) if isinstance(t, dict) and "name" in t}
    else:
        items = dict(entries) if isinstance(entries, dict) else {}
        slots = {name: name for name in items}
    for name, patch in patches.items():
        where = join_pointer(f"/{section}", name)
        if name not in slots:
            problems.append(source.problem(where, _unknown(kind, name, list(slots))))
        elif _is_mapping(source, where, patch, f"settings of {kind} `{name}`", problems):
            if kind == "trigger" and "name" in patch:
                message = "a trigger's name cannot change per environment"
                problems.append(source.problem(join_pointer(where, "name"), message))
                continue
            slot = slots[name]
            at = join_pointer(f"/spec/{section}", slot)
            items[slot] = _merge(items[slot], patch, at, where, overlay)
    return items


def _unknown(kind: str, name: str, known: list[str]) -> str:
    declared = ", ".join(f"`{k}`" for k in known) if known else "none"
    return f"flowapp.yaml declares no {kind} `{name}` (its {kind}s: {declared})"


def _merge(base: Any, patch: Any, at: str, origin: str, overlay: Overlay) -> Any:
    """RFC 7386 merge of ``patch`` into ``base``, noting the origin of every value set."""
    if not isinstance(patch, dict):
        overlay.origins[at] = origin
        return patch
    if not isinstance(base, dict):
        overlay.origins[at] = origin
        base = {}
    merged = dict(base)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = _merge(
                base.get(key), value, join_pointer(at, key), join_pointer(origin, key), overlay
            )
    return merged
