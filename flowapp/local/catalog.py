"""Apps: created from a FlowApp or a plain workflow given as text, their repositories
scaffolded, listed and deleted. Part of ``LocalPlatform`` (a mixin, see ``platform.py``).

An app created from text gets a project like ``flowapp init`` makes: a plain workflow is
wrapped with one function folder per custom function it calls; a FlowApp's declared
functions whose folders are missing get the starter code of their runtime.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowapp.apps import FILE_NAME, FlowApp, function_names_called, is_plain_workflow
from flowapp.apps.errors import ScaffoldError
from flowapp.apps.functions import default_folder
from flowapp.apps.names import dns_label_problem, function_name_problem, project_name_problem
from flowapp.apps.project import DOCUMENT_LIMITS, OutsideProject, project_path
from flowapp.apps.scaffold import RUNTIMES, WORKFLOW_FILE, function_files, render_project
from flowapp.apps.sources import read_tree
from flowapp.dsl.problems import DefinitionError, Problem
from flowapp.dsl.source import DocumentTooLarge, SourceDocument, parse_text
from flowapp.dsl.validate import validate_source
from flowapp.local.webhooks import check_webhook_paths
from flowapp.runtime.outcome import UnknownExecution
from flowapp.server import platform as p
from flowapp.store.platform.records import AppExists
from flowapp.store.port import ExecutionFilter
from flowapp.store.rules import UNFINISHED_STATUSES

if TYPE_CHECKING:
    from flowapp.local.platform import LocalPlatform


def _parse(text: str, filename: str) -> SourceDocument:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates from a JSON body's \ud800 escapes
        detail = f"the document is not UTF-8 text: {exc.reason} at character {exc.start}"
        raise p.InvalidResource(detail) from None
    try:
        doc = parse_text(text, filename, limits=DOCUMENT_LIMITS)
    except DocumentTooLarge as error:
        detail = error.problems[0].message
        raise p.PayloadTooLarge(detail, problems=list(error.problems)) from None
    except DefinitionError as error:
        raise p.InvalidResource(
            "the document cannot be read", problems=list(error.problems)
        ) from None
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


class Catalog:
    async def validate_app(
        self: LocalPlatform, text: str, *, filename: str = FILE_NAME
    ) -> list[Any]:
        try:
            files = await asyncio.to_thread(project_files, text, filename)
            app = await self._check_project(files)
            await self.check_runs(app)
        except (p.InvalidResource, p.RunNotAllowed) as error:
            return error.problems or [Problem("", error.detail)]
        return []

    async def create_app(self: LocalPlatform, text: str, *, filename: str = FILE_NAME) -> p.AppView:
        files = await asyncio.to_thread(project_files, text, filename)
        app = await self._check_project(files)
        if await self._store(self.platform_store.get_app, app.name) is not None:
            raise p.Conflict(f"an app named {app.name} exists already")
        await self._check_webhook_paths(app)
        await self._create_with_source(app, files, "Scaffolded by flowapp")
        return await self.get_app(app.name)

    async def update_app(self: LocalPlatform, name: str, text: str) -> p.AppView:
        await self._require_app(name)
        files = await asyncio.to_thread(project_files, text, FILE_NAME)
        current = await self._current_files(name)
        merged = {**{k: v for k, v in files.items() if k not in current}, **current}
        merged.update({k: v for k, v in files.items() if not k.startswith("functions/")})
        app = await self._check_project(merged)
        if app.name != name:  # an invalid resource for this URL, located where it is named
            message = f"the app is {name}, not {app.name}"
            problem = Problem("/metadata/name", message, FILE_NAME)
            raise p.InvalidResource(
                f"the resource names app {app.name!r}; the URL names {name!r}", problems=[problem]
            )
        await self._check_webhook_paths(app)
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
        """Everything of the app goes: its unfinished executions are cancelled (their
        code goes too), its triggers, ``schedule.on`` subscription and pending
        ``schedule.after`` start stop, its revisions stop and their folders and function
        logs are removed, with its records, repository, build cache and cron state. Its finished
        executions stay in the history."""
        await self._require_app(name)
        await cancel_unfinished(self.runtime, name)
        await self._stop_triggers(name)
        self.webhook_routes.release(name)
        for key in [k for k in self.hosts if k[0] == name]:
            await self.hosts.pop(key).stop()
        self.serving.forget(name)
        self._deploying.pop(name, None)
        revisions = await self._store(self.platform_store.list_revisions, name)
        await self._store(self.platform_store.delete_app, name, now=self._now())
        await asyncio.to_thread(self.repositories.delete, name)
        for revision in revisions:
            await asyncio.to_thread(_remove, self.revision_dir(revision.id))
            await asyncio.to_thread(_remove, self.data_dir / "logs" / revision.id)
        # Its compilers' cache: a new app of the same name must not read this one's output.
        await asyncio.to_thread(_remove, self.data_dir / "build-cache" / name)
        await self.cron_state.forget(f"{name}/")

    async def list_apps(self: LocalPlatform) -> list[p.AppView]:
        records = await self._store(self.platform_store.list_apps)
        return [await self.get_app(record.name) for record in records]

    async def get_app(self: LocalPlatform, name: str) -> p.AppView:
        record = await self._require_app(name)
        traffic = [(s[0], s[1]) for s in await self._store(self.platform_store.get_traffic, name)]
        # The observation before the conditions: the syncer writes them the other way round,
        # so the conditions read are at least as recent as the observation's ``observed_at``.
        observation = await self._store(self.platform_store.get_observation, name)
        conditions = await self._store(self.platform_store.get_conditions, name)
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

    async def _check_webhook_paths(self: LocalPlatform, app: FlowApp) -> None:
        """409 naming the holder if another app holds a webhook path ``app`` declares."""
        await self._store(check_webhook_paths, self.platform_store, app.name, app.resource)

    async def _require_app(self: LocalPlatform, name: str) -> Any:
        record = await self._store(self.platform_store.get_app, name)
        if record is None:
            raise p.NotFound(f"no app named {name}")
        return record

    async def _ensure_app_record(self: LocalPlatform, app: FlowApp) -> bool:
        """Create the app's record, or update its resource; True if it was created."""
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
            return False
        return True


async def cancel_unfinished(runtime: Any, app: str) -> None:
    """Cancel every unfinished execution of ``app`` (a page of each status at a time)."""
    for status in UNFINISHED_STATUSES:
        cursor = None
        while True:
            where = ExecutionFilter(app=app, status=status)
            page = await asyncio.to_thread(
                runtime.store.list_executions, where, limit=500, cursor=cursor
            )
            for record in page.items:
                with contextlib.suppress(UnknownExecution):
                    await runtime.cancel(record.id, f"the app {app} was deleted")
            cursor = page.next_cursor
            if cursor is None:
                break


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
