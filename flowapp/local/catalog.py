"""Apps: created from a FlowApp or a plain workflow given as text, their repositories
scaffolded, listed and deleted. Part of ``LocalPlatform`` (a mixin, see ``platform.py``).

An app created from text gets a project like ``flowapp init`` makes: a plain workflow is
wrapped with one function folder per custom function it calls; a FlowApp's declared
functions whose folders are missing get the starter code of their runtime.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowapp.apps import FILE_NAME, FlowApp, is_plain_workflow
from flowapp.apps.scaffold import function_files, init_project
from flowapp.apps.sources import read_tree
from flowapp.dsl.problems import DefinitionError, Problem
from flowapp.dsl.source import parse_text
from flowapp.server import platform as p
from flowapp.store.platform.records import AppExists

if TYPE_CHECKING:
    from flowapp.local.platform import LocalPlatform

_SCAFFOLDABLE = frozenset({"python", "node"})


def _parse(text: str, filename: str) -> dict[str, Any]:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates from a JSON body's \ud800 escapes
        detail = f"the document is not UTF-8 text: {exc.reason} at character {exc.start}"
        raise p.InvalidResource(detail) from None
    try:
        data = parse_text(text, filename).data
    except DefinitionError as error:
        raise p.InvalidResource(
            "the document cannot be read", problems=list(error.problems)
        ) from None
    if not isinstance(data, dict):
        raise p.InvalidResource("the document must be a FlowApp or a workflow object")
    if _has_lone_surrogates(data):
        raise p.InvalidResource("the document holds strings that are not valid Unicode")
    return data


def _has_lone_surrogates(value: Any) -> bool:
    """JSON may escape half of a surrogate pair (``\\ud800``): not text anyone can store."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogates(k) or _has_lone_surrogates(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogates(item) for item in value)
    return False


def project_files(text: str, filename: str) -> dict[str, bytes]:
    """The files of a new project for a FlowApp or workflow given as text."""
    data = _parse(text, filename)
    if is_plain_workflow(data):
        name = str((data.get("document") or {}).get("name") or "app")
        with tempfile.TemporaryDirectory() as folder:
            init_project(Path(folder) / name, name, workflow=data, workflow_text=text)
            return read_tree(Path(folder) / name)
    files = {FILE_NAME: text.encode("utf-8")}
    name = str((data.get("metadata") or {}).get("name") or "app")
    functions = (
        ((data.get("spec") or {}).get("functions") or {})
        if isinstance(data.get("spec"), dict)
        else {}
    )
    for function, entry in functions.items() if isinstance(functions, dict) else ():
        runtime = (entry or {}).get("runtime", "python") if isinstance(entry, dict) else "python"
        path = (entry or {}).get("path", f"functions/{function}") if isinstance(entry, dict) else ""
        if runtime in _SCAFFOLDABLE and path:
            rendered = function_files(name, function, runtime, prefix=f"{str(path).strip('/')}/")
            files.update({k: v.encode("utf-8") for k, v in rendered.items()})
    return files


class Catalog:
    async def validate_app(
        self: LocalPlatform, text: str, *, filename: str = FILE_NAME
    ) -> list[Any]:
        try:
            await self._check_project(project_files(text, filename))
        except p.InvalidResource as error:
            return error.problems or [Problem("", error.detail)]
        return []

    async def create_app(self: LocalPlatform, text: str, *, filename: str = FILE_NAME) -> p.AppView:
        files = project_files(text, filename)
        app = await self._check_project(files)
        if await self._store(self.platform_store.get_app, app.name) is not None:
            raise p.Conflict(f"an app named {app.name} exists already")
        await self._ensure_app_record(app)
        await self._commit_source(app.name, files, "Scaffolded by flowapp")
        return await self.get_app(app.name)

    async def update_app(self: LocalPlatform, name: str, text: str) -> p.AppView:
        await self._require_app(name)
        files = project_files(text, FILE_NAME)
        current = await self._current_files(name)
        merged = {**{k: v for k, v in files.items() if k not in current}, **current}
        merged.update({k: v for k, v in files.items() if not k.startswith("functions/")})
        app = await self._check_project(merged)
        if app.name != name:
            raise p.Conflict(f"the resource names app {app.name!r}; the URL names {name!r}")
        await self._commit_source(name, merged, "Resource updated through the API")
        await self._store(
            self.platform_store.update_app, name, resource=app.resource, now=self._now()
        )
        return await self.get_app(name)

    async def _current_files(self: LocalPlatform, name: str) -> dict[str, bytes]:
        head = await asyncio.to_thread(self.repositories.head, name)
        if head is None:
            return {}
        with tempfile.TemporaryDirectory() as folder:
            await asyncio.to_thread(self.repositories.export, name, head, Path(folder))
            return read_tree(Path(folder))

    async def delete_app(self: LocalPlatform, name: str) -> None:
        await self._require_app(name)
        triggers = self.triggers.pop(name, None)
        if triggers is not None:
            await triggers.stop()
        for key in [k for k in self.hosts if k[0] == name]:
            await self.hosts.pop(key).stop()
        self.serving.pop(name, None)
        self.rollouts.pop(name, None)
        await self._store(self.platform_store.delete_app, name, now=self._now())
        await asyncio.to_thread(self.repositories.delete, name)

    async def list_apps(self: LocalPlatform) -> list[p.AppView]:
        records = await self._store(self.platform_store.list_apps)
        return [await self.get_app(record.name) for record in records]

    async def get_app(self: LocalPlatform, name: str) -> p.AppView:
        record = await self._require_app(name)
        traffic = [(s[0], s[1]) for s in await self._store(self.platform_store.get_traffic, name)]
        conditions = await self._store(self.platform_store.get_conditions, name)
        observation = await self._store(self.platform_store.get_observation, name)
        serving = max(traffic, key=lambda split: split[1])[0] if traffic else None
        return p.AppView(
            name=record.name,
            namespace=record.namespace,
            resource=record.resource,
            created_at=record.created_at,
            updated_at=record.updated_at,
            deployed_revision=serving,
            traffic=traffic,
            conditions=[_condition(c) for c in conditions],
            observation=_observation(observation),
        )

    async def _require_app(self: LocalPlatform, name: str) -> Any:
        record = await self._store(self.platform_store.get_app, name)
        if record is None:
            raise p.NotFound(f"no app named {name}")
        return record

    async def _ensure_app_record(self: LocalPlatform, app: FlowApp) -> None:
        try:
            await self._store(
                self.platform_store.create_app,
                app.name,
                namespace=app.namespace,
                resource=app.resource,
                now=self._now(),
            )
        except AppExists:
            await self._store(
                self.platform_store.update_app, app.name, resource=app.resource, now=self._now()
            )


def _condition(record: Any) -> dict[str, Any]:
    return {
        "type": record.type,
        "status": record.status,
        "reason": record.reason,
        "message": record.message,
        "last_transition_time": record.last_transition_time,
    }


def _observation(record: Any) -> dict[str, Any] | None:
    if record is None:
        return None
    return {
        "deployed_revision": record.deployed_revision,
        "functions": record.functions,
        "triggers": record.triggers,
        "observed_at": record.observed_at,
    }
