"""An app's project source read, checked and committed as a whole (what the dashboard's
editor saves). Part of ``LocalPlatform`` (a mixin, see ``platform.py``).

A commit goes through the same check as an upload (``_check_project``) and only lands if
``main`` has not moved since the client read it: a push made meanwhile is never
overwritten, the client is told to reload instead.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from flowapp.dsl.problems import Problem
from flowapp.gitrepos.errors import BranchMoved
from flowapp.server import platform as p

if TYPE_CHECKING:
    from flowapp.local.platform import LocalPlatform


class Projects:
    async def get_source(self: LocalPlatform, name: str) -> p.SourceView:
        await self._require_app(name)
        head = await asyncio.to_thread(self.repositories.head, name)
        return p.SourceView(await self._current_files(name), head)

    async def validate_source(
        self: LocalPlatform, name: str, files: dict[str, bytes]
    ) -> list[Problem]:
        await self._require_app(name)
        try:
            await self._check_project(files)
        except p.InvalidResource as error:
            return error.problems or [Problem("", error.detail)]
        return []

    async def commit_source(
        self: LocalPlatform,
        name: str,
        files: dict[str, bytes],
        *,
        message: str,
        parent: str | None,
    ) -> p.SourceView:
        await self._require_app(name)
        app = await self._check_project(files)
        if app.name != name:
            raise p.Conflict(f"the project names app {app.name!r}; the URL names {name!r}")
        await self._check_webhook_paths(app)
        head = await asyncio.to_thread(self.repositories.head, name)
        if parent is not None and head != parent:
            raise p.Conflict(_moved(name, parent, head))
        try:
            commit = await self._commit_source(name, files, message)
        except BranchMoved:  # a push landed between the check and the commit
            raise p.Conflict(_moved(name, parent, None)) from None
        await self._store(
            self.platform_store.update_app, name, resource=app.resource, now=self._now()
        )
        return p.SourceView(dict(files), commit)


def _moved(name: str, parent: str | None, head: str | None) -> str:
    now = f" (now at {head[:12]})" if head else ""
    return (
        f"the source of {name} changed since {(parent or '')[:12]} was read{now}: "
        "reload it, then make your change again"
    )
