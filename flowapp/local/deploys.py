"""Deploys: source -> immutable revision -> functions started -> traffic switched.

Part of ``LocalPlatform`` (a mixin over its state, see ``platform.py``).
"""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowapp.apps import FlowApp, load_app
from flowapp.apps.loader import check_files
from flowapp.apps.sources import BadArchive, unpack_archive
from flowapp.dsl.problems import DefinitionError
from flowapp.dsl.source import DocumentTooLarge
from flowapp.gitrepos.errors import GitRepoError
from flowapp.local.pushes import check_commit
from flowapp.local.revisions import ENVIRONMENT_RECORD, RevisionFailed
from flowapp.server import platform as p
from flowapp.store.platform import DeployRecord

if TYPE_CHECKING:
    from flowapp.local.platform import LocalPlatform

AUTHOR = "flowapp <flowapp@localhost>"


class Deploys:
    async def deploy(
        self: LocalPlatform, name: str, *, progress: p.Progress | None = None
    ) -> p.DeployView:
        lock = self._deploying.setdefault(name, asyncio.Lock())
        async with lock:
            await self._require_app(name)
            staging = self.data_dir / "revisions" / f".staging-{uuid.uuid4().hex}"
            narration = _Narration(progress)
            try:
                try:
                    app = await self._stage(name, staging, narration)
                except p.DeployFailed as failure:  # shown in the app's conditions
                    self.serving.roll_out(name, None, "failed", _summary(failure))
                    raise
                return await self._deploy_staged(name, app, staging, narration)
            finally:
                shutil.rmtree(staging, ignore_errors=True)

    def check_pushed_commit(self: LocalPlatform, name: str, commit: str) -> list[str]:
        """What keeps a pushed commit from deploying (``pushes.py``); blocking."""
        return check_commit(self, name, commit)

    async def _stage(
        self: LocalPlatform, name: str, staging: Any, narration: _Narration
    ) -> FlowApp:
        head = await asyncio.to_thread(self.repositories.head, name)
        if head is None:
            raise p.DeployFailed(f"app {name} has no source yet: push to its repository first")
        await narration.say(f"checking out {head[:12]}")
        try:
            await asyncio.to_thread(self.repositories.export, name, head, staging)
        except (GitRepoError, OSError, ValueError) as exc:  # a pushed tree is user input
            raise p.DeployFailed(f"the source of {name} cannot be checked out: {exc}") from None
        try:
            app = await asyncio.to_thread(load_app, staging, self.environment)
        except DefinitionError as error:
            raise p.DeployFailed(
                f"the source of {name} is not a valid FlowApp", problems=list(error.problems)
            ) from None
        if app.name != name:
            raise p.DeployFailed(f"the source declares app {app.name!r}, not {name!r}")
        await self._check_webhook_paths(app)
        await self.check_runs(app)
        return app

    async def _deploy_staged(
        self: LocalPlatform, name: str, app: FlowApp, staging: Any, narration: _Narration
    ) -> p.DeployView:
        now = self._now()
        revision = await self._store(
            self.platform_store.create_revision,
            name,
            digest=app.digest,
            resource=app.resource,
            now=now,
        )
        deploy = await self._store(
            self.platform_store.create_deploy,
            name,
            revision_id=revision.id,
            now=now,
            owner=self.owner,
        )
        folder = self.revision_dir(revision.id)
        if not folder.exists():
            await asyncio.to_thread(_keep_revision, staging, folder, app.environment)
        if app.environment is not None:
            await narration.say(f"with config/{app.environment}.yaml")
        await narration.say(f"revision {revision.id}: building and starting functions")
        return await self._switch_to(name, revision.id, deploy.id, narration)

    async def deploy_in_place(self: LocalPlatform, folder: Any) -> p.DeployView:
        """``flowapp dev``: serve a project folder as it is, without copying it, so that
        edits reach the running functions (the folder is linked as the revision's)."""
        try:
            app = await asyncio.to_thread(load_app, folder, self.environment)
        except DefinitionError as error:
            raise p.InvalidResource("not a valid FlowApp", problems=list(error.problems)) from None
        await self._ensure_app_record(app)
        await self.check_runs(app)
        now = self._now()
        digest = f"dev:{folder}:{uuid.uuid4().hex}"
        revision = await self._store(
            self.platform_store.create_revision,
            app.name,
            digest=digest,
            resource=app.resource,
            now=now,
        )
        link = self.revision_dir(revision.id)
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.exists():
            link.symlink_to(folder.resolve(), target_is_directory=True)
        deploy = await self._store(
            self.platform_store.create_deploy,
            app.name,
            revision_id=revision.id,
            now=now,
            owner=self.owner,
        )
        return await self._switch_to(app.name, revision.id, deploy.id)

    async def _switch_to(
        self: LocalPlatform,
        name: str,
        revision_id: str,
        deploy_id: int,
        narration: _Narration | None = None,
    ) -> p.DeployView:
        narration = narration or _Narration(None)
        self.serving.roll_out(name, revision_id, "building")
        try:
            host = await self._host(name, revision_id)
        except (RevisionFailed, DefinitionError, OSError) as exc:
            message = f"revision {revision_id} failed: {exc}"
            await narration.say(message)
            self.serving.roll_out(name, revision_id, "failed", message)
            await self._store(
                self.platform_store.set_revision_status,
                revision_id,
                status="failed",
                message=str(exc),
            )
            await self._store(
                self.platform_store.update_deploy,
                deploy_id,
                now=self._now(),
                status="failed",
                message=message,
                append_log=narration.log(),
            )
            raise p.DeployFailed(message + "; the previous revision keeps serving") from None
        await self._store(self.platform_store.set_revision_status, revision_id, status="ready")
        await self._store(self.platform_store.set_traffic, name, [(revision_id, 100)])
        self.serving.roll_out(name, revision_id, "ready")
        self.serving.set_traffic(name, [(revision_id, 100)])
        await self._restart_triggers(name, host.app)
        await narration.say(f"traffic switched to {revision_id}")
        record = await self._store(
            self.platform_store.update_deploy,
            deploy_id,
            now=self._now(),
            status="succeeded",
            message=f"{revision_id} serves 100% of {name}",
            append_log=narration.log(),
        )
        return _deploy_view(record)

    async def upload_source(
        self: LocalPlatform, name: str, archive: bytes, *, progress: p.Progress | None = None
    ) -> p.DeployView:
        try:
            files = await asyncio.to_thread(unpack_archive, archive)
        except BadArchive as exc:
            raise p.archive_refused(str(exc), exc.member) from None
        app = await self._check_project(files)
        if app.name != name:
            raise p.PlatformError(f"the project declares app {app.name!r}, not {name!r}")
        await self._check_webhook_paths(app)
        await _Narration(progress).say(f"received {len(files)} files")
        await self._create_with_source(app, files, "Upload from flowapp deploy")
        return await self.deploy(name, progress=progress)

    async def _create_with_source(
        self: LocalPlatform, app: FlowApp, files: dict[str, bytes], message: str
    ) -> None:
        """Record the app (if new) and commit its files; if the commit is refused, an app
        this call created is removed again, so nothing half-made is left."""
        created = await self._ensure_app_record(app)
        try:
            await self._commit_source(app.name, files, message)
        except (GitRepoError, OSError, ValueError) as exc:
            if created:
                await self._store(self.platform_store.delete_app, app.name, now=self._now())
            raise p.InvalidResource(f"the project cannot be stored: {exc}") from None

    async def _check_project(self: LocalPlatform, files: dict[str, bytes]) -> FlowApp:
        """Validate a project sent by a request, in memory, before anything of it is kept."""
        try:
            return await asyncio.to_thread(check_files, files, self.environment)
        except DocumentTooLarge as error:
            detail = error.problems[0].message
            raise p.PayloadTooLarge(detail, problems=list(error.problems)) from None
        except DefinitionError as error:
            raise p.InvalidResource(
                "the project is not a valid FlowApp", problems=list(error.problems)
            ) from None

    async def on_push(self: LocalPlatform, name: str, commit: str) -> p.DeployView | None:
        try:
            return await self.deploy(name)
        except p.PlatformError:
            return None  # recorded in the deploy history; git already has the push

    async def list_revisions(self: LocalPlatform, name: str) -> list[p.RevisionView]:
        await self._require_app(name)
        records = await self._store(self.platform_store.list_revisions, name)
        return [
            p.RevisionView(r.id, r.app, r.number, r.digest, r.status, r.message, r.created_at)
            for r in records
        ]

    async def list_deploys(self: LocalPlatform, name: str) -> list[p.DeployView]:
        await self._require_app(name)
        records = await self._store(self.platform_store.list_deploys, name)
        return [_deploy_view(record) for record in records]

    async def get_deploy(self: LocalPlatform, name: str, deploy_id: int) -> p.DeployView:
        await self._require_app(name)
        record = await self._store(self.platform_store.get_deploy, deploy_id)
        if record is None or record.app != name:
            raise p.NotFound(f"app {name} has no deploy {deploy_id}")
        return _deploy_view(record)

    async def set_traffic(
        self: LocalPlatform, name: str, splits: list[tuple[str, int]]
    ) -> list[tuple[str, int]]:
        await self._require_app(name)
        for revision_id, percent in splits:
            record = await self._store(self.platform_store.get_revision, revision_id)
            if record is None or record.app != name:  # the body is wrong, not the URL
                raise p.PlatformError(f"app {name} has no revision {revision_id}")
            if record.status != "ready" and percent > 0:
                raise p.Conflict(f"revision {revision_id} is {record.status}, not ready")
            if percent > 0:
                await self._host(name, revision_id)
        try:
            result = await self._store(self.platform_store.set_traffic, name, splits)
        except ValueError as exc:
            raise p.PlatformError(str(exc)) from None
        shares = [(split[0], split[1]) for split in result]
        leading = self.serving.primary(name)
        self.serving.set_traffic(name, shares)
        if self.serving.primary(name) != leading:  # triggers run with the leader's resource
            await self._restart_triggers(name)
        return shares

    async def rollback(self: LocalPlatform, name: str) -> list[tuple[str, int]]:
        """All traffic to the newest ready revision before the one with the largest
        share (a canary split is undone too, to the revision before its leader)."""
        await self._require_app(name)
        shares = [s for s in await self._store(self.platform_store.get_traffic, name) if s[1]]
        current = max(shares, key=lambda split: split[1])[0] if shares else None
        revisions = await self._store(self.platform_store.list_revisions, name)  # newest first
        numbers = {r.id: r.number for r in revisions}
        before = numbers.get(current) if current is not None else None
        candidates = [
            r
            for r in revisions
            if r.status == "ready" and r.id != current and (before is None or r.number < before)
        ]
        if not candidates:
            raise p.Conflict(f"app {name} has no earlier ready revision to roll back to")
        return await self.set_traffic(name, [(candidates[0].id, 100)])

    async def _commit_source(
        self: LocalPlatform, name: str, files: dict[str, bytes], message: str
    ) -> str:
        if await asyncio.to_thread(self.repositories.exists, name):
            return str(
                await asyncio.to_thread(
                    lambda: self.repositories.commit_tree(
                        name, files, message=message, author=AUTHOR
                    )
                )
            )
        return str(
            await asyncio.to_thread(
                lambda: self.repositories.create(name, files, message=message, author=AUTHOR)
            )
        )


class _Narration:
    """A deploy's progress: told to the client as it happens, and kept for the deploy's
    log, which is written with the deploy's outcome (one write, not one per line)."""

    def __init__(self, progress: p.Progress | None) -> None:
        self.progress = progress
        self.lines: list[str] = []

    async def say(self, message: str) -> None:
        self.lines.append(f"{time.strftime('%H:%M:%SZ', time.gmtime())} {message}\n")
        if self.progress is not None:
            result = self.progress(message)
            if result is not None:
                await result

    def log(self) -> str:
        return "".join(self.lines)


def _summary(failure: p.PlatformError) -> str:
    """A failure with its first problems, for the app's conditions."""
    shown = "; ".join(str(problem) for problem in failure.problems[:3])
    more = f" (and {len(failure.problems) - 3} more)" if len(failure.problems) > 3 else ""
    return f"{failure.detail}: {shown}{more}" if shown else failure.detail


def _deploy_view(r: DeployRecord) -> p.DeployView:
    return p.DeployView(
        r.id, r.app, r.revision_id, r.status, r.message, r.log, r.started_at, r.ended_at
    )


def _keep_revision(staging: Path, folder: Path, environment: str | None) -> None:
    """Copy, then rename into place: a crash mid-copy leaves a scratch folder (removed at
    the next start), never a half revision that a later deploy of the same code reuses."""
    incoming = folder.with_name(f".incoming-{folder.name}")
    shutil.rmtree(incoming, ignore_errors=True)
    shutil.copytree(staging, incoming)
    (incoming / ENVIRONMENT_RECORD).write_text(environment or "", encoding="utf-8")
    incoming.rename(folder)
