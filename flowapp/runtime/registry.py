"""The workflows a runtime knows, by id and by namespace / name / version.

A workflow's id is a digest of its document (with the FlowApp functions its calls resolve
to, and the app revision it belongs to), so the same text always has the same id and an
execution can find the exact definition it started with after a restart, even when a
newer version was deployed.

``limits`` are those its app sets (``spec.limits``); an execution copies them into its
state when it starts, so they are not part of the stored record: a workflow read back
from the store has the defaults until its app registers it again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from flowapp.dsl.build import build_workflow
from flowapp.dsl.model import Workflow
from flowapp.engine.limits import DEFAULT_LIMITS, ExecutionLimits
from flowapp.runtime.outcome import UnknownExecution
from flowapp.store.port import Store, WorkflowRecord


@dataclass(frozen=True, slots=True)
class LoadedWorkflow:
    id: str
    model: Workflow
    document: Mapping[str, Any]
    app: str | None = None
    revision: str | None = None
    app_functions: frozenset[str] = frozenset()
    limits: ExecutionLimits = DEFAULT_LIMITS


def workflow_id(
    document: Mapping[str, Any],
    app_functions: frozenset[str],
    app: str | None = None,
    revision: str | None = None,
) -> str:
    """Same text, functions, app and revision: same id. Two revisions of an app with the
    same workflow but different function code are different workflows (their calls go to
    different function instances)."""
    identity = {
        "document": document,
        "functions": sorted(app_functions),
        "app": app,
        "revision": revision,
    }
    canonical = orjson.dumps(identity, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()[:24]


def _version_key(version: str) -> tuple[Any, ...]:
    core = version.split("+")[0].split("-")[0]
    parts = [int(p) if p.isdigit() else 0 for p in core.split(".")]
    return (*parts, "-" not in version)


class WorkflowRegistry:
    def __init__(self, store: Store | None = None) -> None:
        self.store = store
        self._by_id: dict[str, LoadedWorkflow] = {}
        # (app, namespace, name) -> version -> workflow: each app finds only its own
        self._by_name: dict[tuple[str | None, str, str], dict[str, LoadedWorkflow]] = {}

    def add(
        self,
        document: Mapping[str, Any],
        *,
        app_functions: frozenset[str] = frozenset(),
        app: str | None = None,
        revision: str | None = None,
        limits: ExecutionLimits = DEFAULT_LIMITS,
    ) -> LoadedWorkflow:
        """Register a schema-valid document (validate it first)."""
        key = workflow_id(document, app_functions, app, revision)
        existing = self._by_id.get(key)
        if existing is not None and existing.limits == limits:
            return existing
        if existing is not None:  # read back from the store before its app set its limits
            model = existing.model
        else:
            model = build_workflow(document, app_functions=app_functions)
        loaded = LoadedWorkflow(key, model, document, app, revision, app_functions, limits)
        self._by_id[key] = loaded
        info = model.document
        self._by_name.setdefault((app, info.namespace, info.name), {})[info.version] = loaded
        if self.store is not None and existing is None:
            self.store.save_workflow(
                WorkflowRecord(
                    id=key,
                    namespace=info.namespace,
                    name=info.name,
                    version=info.version,
                    document=dict(document),
                    app=app,
                    revision=revision,
                    functions=tuple(sorted(app_functions)),
                )
            )
        return loaded

    def get(self, key: str) -> LoadedWorkflow | None:
        loaded = self._by_id.get(key)
        if loaded is None and self.store is not None:
            record = self.store.get_workflow(key)
            if record is not None:
                loaded = self.add(
                    record.document,
                    app_functions=frozenset(record.functions),
                    app=record.app,
                    revision=record.revision,
                )
        return loaded

    def of_execution(self, key: str) -> LoadedWorkflow:
        """The workflow a stored execution names; ``UnknownExecution`` if the store has
        lost it (an execution cannot go on without its exact definition)."""
        loaded = self.get(key)
        if loaded is None:
            raise UnknownExecution(f"workflow {key} is not in the store")
        return loaded

    def find(
        self, namespace: str, name: str, version: str = "latest", *, app: str | None = None
    ) -> LoadedWorkflow | None:
        """A workflow of ``app`` (``run: workflow`` never reaches another app's workflows,
        which run with that app's secrets), else one that belongs to no app."""
        found = self._find(app, namespace, name, version)
        if found is None and app is not None:
            found = self._find(None, namespace, name, version)
        return found

    def _find(
        self, app: str | None, namespace: str, name: str, version: str
    ) -> LoadedWorkflow | None:
        versions = self._by_name.get((app, namespace, name)) or {}
        if version != "latest":
            return versions.get(version)
        if not versions:
            return None
        return versions[max(versions, key=_version_key)]
