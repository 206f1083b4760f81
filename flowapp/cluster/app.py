"""The one app an engine replica serves: read from the file the operator's ConfigMap holds.

The file is a FlowApp with its workflow inline and no function folders (each function is
a Knative Service there); it is checked as ``flowapp.yaml`` is, and its functions'
URLs come from the environment (``FLOWAPP_FUNCTION_URL_<NAME>``) unless given. Its
revision is named after its digest, so every replica running the same ConfigMap
registers the same workflow, and an execution started by one is understood by all.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from flowapp.apps.loader import load_resource_data
from flowapp.apps.model import FlowApp
from flowapp.apps.project import DOCUMENT_LIMITS
from flowapp.dsl.problems import DefinitionError, Problem
from flowapp.dsl.source import read_source
from flowapp.functions.remote import url_variable, urls_from_environment
from flowapp.runtime.registry import LoadedWorkflow

if TYPE_CHECKING:
    from flowapp.cluster.triggers import ClusterTriggers


@dataclass
class ClusterApp:
    """``workflow`` is the app's, registered under its revision; with a split
    (``split.py``), ``split`` holds it once per revision with that revision's percent."""

    flowapp: FlowApp
    workflow: LoadedWorkflow
    urls: dict[str, str]
    triggers: ClusterTriggers | None = None
    split: list[tuple[LoadedWorkflow, int]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.flowapp.name

    @property
    def revision(self) -> str:
        return self.workflow.revision or revision_of(self.flowapp)

    @property
    def traffic(self) -> list[tuple[str, int]]:
        if not self.split:
            return [(self.revision, 100)]
        return [(workflow.revision or "", percent) for workflow, percent in self.split]

    def chosen(self) -> LoadedWorkflow:
        """The workflow (so the revision) a new execution runs: by the split's percents."""
        if not self.split:
            return self.workflow
        weights = [percent for _, percent in self.split]
        return self.split[random.choices(range(len(weights)), weights=weights)[0]][0]


class SettingsError(ValueError):
    """The engine's settings do not fit its app (a function without URL, say)."""


def revision_of(app: FlowApp) -> str:
    """``<app>-<12 hex of its digest>``: the same on every replica for the same file."""
    return f"{app.name}-{app.digest.removeprefix('sha256:')[:12]}"


def load_app_file(path: Path) -> FlowApp:
    """The FlowApp in ``path``; ``DefinitionError`` with every problem and where."""
    doc = read_source(path, limits=DOCUMENT_LIMITS)
    if not isinstance(doc.data, dict):
        raise DefinitionError([Problem("", "the file holds no FlowApp object", str(path))])
    return load_resource_data(doc.data, file=str(path))


def function_urls(
    app: FlowApp, environ: Mapping[str, str], given: Mapping[str, str]
) -> dict[str, str]:
    """Every function's URL: ``given`` first, then the environment. ``SettingsError`` names
    the functions that have neither, and the unknown functions ``given`` names."""
    unknown = sorted(set(given) - set(app.functions))
    if unknown:
        raise SettingsError(f"app {app.name} has no function(s) {', '.join(unknown)}")
    found, missing = urls_from_environment(
        [name for name in app.functions if name not in given], environ
    )
    if missing:
        variables = ", ".join(url_variable(name) for name in missing)
        raise SettingsError(f"no URL for function(s) {', '.join(missing)}: set {variables}")
    return {**found, **given}
