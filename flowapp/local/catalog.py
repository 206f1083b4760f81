"""The app catalog: apps created from a FlowApp or a plain workflow given as text, their
repositories scaffolded, listed, changed and removed.

An app created from text gets a project like ``flowapp init`` makes: a plain workflow is
wrapped with one function folder per custom function it calls; a FlowApp's declared
functions whose folders are missing get the starter code of their runtime.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from flowapp.apps import FILE_NAME, function_names_called, is_plain_workflow
from flowapp.apps.errors import ScaffoldError
from flowapp.apps.functions import default_folder
from flowapp.apps.names import dns_label_problem, function_name_problem, project_name_problem
from flowapp.apps.project import DOCUMENT_LIMITS, OutsideProject, project_path
from flowapp.apps.scaffold import RUNTIMES, WORKFLOW_FILE, function_files, render_project
from flowapp.dsl.problems import Problem
from flowapp.dsl.source import SourceDocument, parse_text
from flowapp.dsl.validate import validate_source
from flowapp.local.app_records import require_app
from flowapp.local.projects import Projects
from flowapp.local.runpolicy import RunPolicies
from flowapp.local.serving import primary_of
from flowapp.server import platform as p
from flowapp.store.platform.port import AppStore, StatusStore


def _parse(text: str, filename: str) -> SourceDocument:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates from a JSON body's \ud800 escapes
        detail = f"the document is not UTF-8 text: {exc.reason} at character {exc.start}"
        raise p.InvalidResource(detail) from None
    with p.refusing_invalid("the document cannot be read"):
        doc = parse_text(text, filename, limits=DOCUMENT_LIMITS)
    if _has_lone_surrogates(doc.data):
        raise p.InvalidResource("the document holds strings that are not valid Unicode")
    return doc


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
    """The files of a new project for a FlowApp or workflow given as text, in memory.

    Starter code is rendered only for what is known to be safe to put in a template and a
    path: a function name that is an identifier (``names.FUNCTION_NAME``) and a folder
    inside the project. Anything else gets no starter code, and the check of the project
    that follows reports it where it was written."""
    doc = _parse(text, filename)
    if is_plain_workflow(doc.data):
        # The user wrote a workflow, and the project keeps it as its workflow file: its
        # problems are reported there, with pointers into the workflow itself.
        return _workflow_project(replace(doc, file=WORKFLOW_FILE), text)
    files = {FILE_NAME: text.encode("utf-8")}
    metadata = _mapping(doc.data.get("metadata"))
    name = metadata.get("name")
    app = name if isinstance(name, str) and dns_label_problem(name, "") is None else "app"
    for function, entry in _mapping(_mapping(doc.data.get("spec")).get("functions")).items():
        for path, content in _starter_code(app, function, entry).items():
            files.setdefault(path, content)
    return files


def _starter_code(app: str, function: str, entry: Any) -> dict[str, bytes]:
    settings = _mapping(entry)
    runtime = settings.get("runtime", "python")
    if function_name_problem(function) is not None or runtime not in RUNTIMES:
        return {}
    try:
        folder = project_path(settings.get("path", default_folder(function)))
    except OutsideProject:
        return {}
    prefix = "" if folder == "." else f"{folder}/"
    rendered = function_files(app, function, runtime, prefix=prefix)
    return {path: content.encode("utf-8") for path, content in rendered.items()}


def _workflow_project(doc: SourceDocument, text: str) -> dict[str, bytes]:
    """A plain workflow becomes a project named after it, one folder per function it calls."""
    called = frozenset(function_names_called(doc.data))
    problems = validate_source(doc, known_functions=called)
    if problems:
        raise p.InvalidResource("the workflow is not valid", problems=problems)
    name = str(doc.data["document"]["name"])
    if (message := project_name_problem(name)) is not None:
        problem = doc.problem("/document/name", message)
        raise p.InvalidResource(message, problems=[problem])
    try:
        rendered = render_project(name, workflow=doc.data, workflow_text=text)
    except ScaffoldError as error:
        raise p.InvalidResource(str(error), problems=[doc.problem("", str(error))]) from None
    return {path: content.encode("utf-8") for path, content in rendered.items()}


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class CatalogStore(AppStore, StatusStore, Protocol):
    """Apps and their rollouts, with the status the syncer wrote (``get_app`` shows it)."""


class AppCatalog:
    def __init__(
        self,
        store: CatalogStore,
        projects: Projects,
        run_policies: RunPolicies,
        *,
        data_dir: Path,
        clock: Callable[[], float],
    ) -> None:
        """``data_dir``: where the app's revision folders, logs and build cache are,
        removed with it."""
        self.store = store
        self.projects = projects
        self.run_policies = run_policies
        self.data_dir = data_dir
        self.clock = clock

    async def validate_app(self, text: str, *, filename: str = FILE_NAME) -> list[Problem]:
        try:
            files = await asyncio.to_thread(project_files, text, filename)
            app = await self.projects.check_project(files)
            await self.run_policies.check_runs(app)
        except (p.InvalidResource, p.RunNotAllowed) as error:
            return error.problems or [Problem("", error.detail)]
        return []

    async def create_app(self, text: str, *, filename: str = FILE_NAME) -> p.AppView:
        files = await asyncio.to_thread(project_files, text, filename)
        app = await self.projects.check_project(files)
        if await asyncio.to_thread(self.store.get_app, app.name) is not None:
            raise p.Conflict(f"an app named {app.name} exists already")
        await self.projects.check_webhook_paths(app)
        await self.projects.create_with_source(app, files, "Scaffolded by flowapp")
        return await self.get_app(app.name)

    async def update_app(self, name: str, text: str) -> p.AppView:
        await require_app(self.store, name)
        files = await asyncio.to_thread(project_files, text, FILE_NAME)
        current = await self.projects.current_files(name)
        merged = {**{k: v for k, v in files.items() if k not in current}, **current}
        merged.update({k: v for k, v in files.items() if not k.startswith("functions/")})
        app = await self.projects.check_project(merged)
        if app.name != name:  # an invalid resource for this URL, located where it is named
            message = f"the app is {name}, not {app.name}"
            problem = Problem("/metadata/name", message, FILE_NAME)
            raise p.InvalidResource(
                f"the resource names app {app.name!r}; the URL names {name!r}", problems=[problem]
            )
        await self.projects.check_webhook_paths(app)
        await self.projects.commit(name, merged, "Resource updated through the API")
        now = self.clock()
        await asyncio.to_thread(lambda: self.store.update_app(name, resource=app.resource, now=now))
        return await self.get_app(name)

    async def remove(self, name: str) -> None:
        """The app's records, repository, revision folders, function logs and build
        cache go (what runs of it is stopped first, see ``LocalPlatform.delete_app``)."""
        revisions = await asyncio.to_thread(self.store.list_revisions, name)
        now = self.clock()
        await asyncio.to_thread(lambda: self.store.delete_app(name, now=now))
        await asyncio.to_thread(self.projects.repositories.delete, name)
        for revision in revisions:
            await asyncio.to_thread(_remove, self.data_dir / "revisions" / revision.id)
            await asyncio.to_thread(_remove, self.data_dir / "logs" / revision.id)
        # Its compilers' cache: a new app of the same name must not read this one's output.
        await asyncio.to_thread(_remove, self.data_dir / "build-cache" / name)

    async def list_apps(self) -> list[p.AppView]:
        records = await asyncio.to_thread(self.store.list_apps)
        return [await self.get_app(record.name) for record in records]

    async def oldest_first(self, names: set[str]) -> list[str]:
        """Oldest app first: an app that held a webhook path before another keeps it."""
        records = await asyncio.to_thread(self.store.list_apps)
        ordered = sorted(records, key=lambda record: (record.created_at, record.name))
        return [record.name for record in ordered if record.name in names]

    async def get_app(self, name: str) -> p.AppView:
        record = await require_app(self.store, name)
        traffic = [(s[0], s[1]) for s in await asyncio.to_thread(self.store.get_traffic, name)]
        # The observation before the conditions: the syncer writes them the other way round,
        # so the conditions read are at least as recent as the observation's ``observed_at``.
        observation = await asyncio.to_thread(self.store.get_observation, name)
        conditions = await asyncio.to_thread(self.store.get_conditions, name)
        return p.AppView(
            name=record.name,
            namespace=record.namespace,
            resource=record.resource,
            created_at=record.created_at,
            updated_at=record.updated_at,
            # The store's splits, not this process's copy: another process may have
            # deployed since; the serving revision by the one rule (``serving.py``).
            deployed_revision=primary_of(traffic),
            traffic=traffic,
            conditions=[_condition(c) for c in conditions],
            observation=_observation(observation),
        )


def _remove(path: Path) -> None:
    """A revision folder or a log folder; ``flowapp dev``'s revision is a link to the
    project, which is unlinked, never emptied."""
    if path.is_symlink():
        path.unlink()
    else:
        shutil.rmtree(path, ignore_errors=True)


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
