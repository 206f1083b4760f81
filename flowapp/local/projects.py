"""Apps' project sources: checked, committed to their repositories, read back as a whole
(what the dashboard's editor saves, what uploads and the catalog commit).

Every project a request brings is checked in memory before anything of it is kept
(``check_project``), with the webhook paths it declares (``check_webhook_paths``). A
commit from the editor only lands if ``main`` has not moved since the client read it: a
push made meanwhile is never overwritten, the client is told to reload instead.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from pathlib import Path

from flowapp.apps import FlowApp
from flowapp.apps.loader import check_files
from flowapp.apps.sources import read_tree
from flowapp.dsl.problems import Problem
from flowapp.gitrepos.errors import BranchMoved, GitRepoError
from flowapp.local.app_records import ensure_app_record, require_app
from flowapp.local.repositories import Repositories
from flowapp.local.webhooks import check_webhook_paths
from flowapp.server import platform as p
from flowapp.store.platform.port import AppStore

AUTHOR = "flowapp <flowapp@localhost>"


@dataclass(eq=False)
class Projects:
    """Apps' project sources. ``environment``: whose ``config/<environment>.yaml`` a
    project is checked with."""

    store: AppStore
    repositories: Repositories
    _: KW_ONLY
    environment: str | None
    clock: Callable[[], float]

    # --- the editor's view of a project ------------------------------------------------

    async def get_source(self, name: str) -> p.SourceView:
        await require_app(self.store, name)
        head = await asyncio.to_thread(self.repositories.head, name)
        return p.SourceView(await self.current_files(name), head)

    async def validate_source(self, name: str, files: dict[str, bytes]) -> list[Problem]:
        await require_app(self.store, name)
        try:
            await self.check_project(files)
        except p.InvalidResource as error:
            return error.problems or [Problem("", error.detail)]
        return []

    async def commit_source(
        self, name: str, files: dict[str, bytes], *, message: str, parent: str | None
    ) -> p.SourceView:
        await require_app(self.store, name)
        app = await self.check_project(files)
        if app.name != name:
            raise p.Conflict(f"the project names app {app.name!r}; the URL names {name!r}")
        await self.check_webhook_paths(app)
        head = await asyncio.to_thread(self.repositories.head, name)
        if parent is not None and head != parent:
            raise p.Conflict(_moved(name, parent, head))
        try:
            commit = await self.commit(name, files, message)
        except BranchMoved:  # a push landed between the check and the commit
            raise p.Conflict(_moved(name, parent, None)) from None
        now = self.clock()
        await asyncio.to_thread(lambda: self.store.update_app(name, resource=app.resource, now=now))
        return p.SourceView(dict(files), commit)

    # --- what the catalog and the deployer share ---------------------------------------

    async def check_project(self, files: dict[str, bytes]) -> FlowApp:
        """Validate a project sent by a request, in memory, before anything of it is kept."""
        with p.refusing_invalid("the project is not a valid FlowApp"):
            return await asyncio.to_thread(check_files, files, self.environment)

    async def check_webhook_paths(self, app: FlowApp) -> None:
        """409 naming the holder if another app holds a webhook path ``app`` declares."""
        await asyncio.to_thread(check_webhook_paths, self.store, app.name, app.resource)

    async def current_files(self, name: str) -> dict[str, bytes]:
        head = await asyncio.to_thread(self.repositories.head, name)
        if head is None:
            return {}
        with tempfile.TemporaryDirectory() as folder:
            await asyncio.to_thread(self.repositories.export, name, head, Path(folder))
            return read_tree(Path(folder))

    async def commit(self, name: str, files: dict[str, bytes], message: str) -> str:
        """Commit ``files`` as the app's project (its repository made on the first)."""
        repositories = self.repositories
        if await asyncio.to_thread(repositories.exists, name):
            return str(
                await asyncio.to_thread(
                    lambda: repositories.commit_tree(name, files, message=message, author=AUTHOR)
                )
            )
        return str(
            await asyncio.to_thread(
                lambda: repositories.create(name, files, message=message, author=AUTHOR)
            )
        )

    async def create_with_source(self, app: FlowApp, files: dict[str, bytes], message: str) -> None:
        """Record the app (if new) and commit its files; if the commit is refused, an app
        this call created is removed again, so nothing half-made is left."""
        created = await ensure_app_record(self.store, app, now=self.clock())
        try:
            await self.commit(app.name, files, message)
        except (GitRepoError, OSError, ValueError) as exc:
            if created:
                now = self.clock()
                await asyncio.to_thread(lambda: self.store.delete_app(app.name, now=now))
            raise p.InvalidResource(f"the project cannot be stored: {exc}") from None


def _moved(name: str, parent: str | None, head: str | None) -> str:
    now = f" (now at {head[:12]})" if head else ""
    return (
        f"the source of {name} changed since {(parent or '')[:12]} was read{now}: "
        "reload it, then make your change again"
    )
