"""The deployer: source -> immutable revision -> functions started -> traffic switched.

A deploy checks out the app's ``main`` into a scratch folder, loads and checks it as a
push would be (``pushes.py``), keeps it as the revision's folder (reused when the digest
is the latest revision's), starts the revision (``hosts.py``) and sends it all traffic;
then the app's triggers restart with its resource. A failed deploy stops what it started
and leaves the serving revision alone; either way the outcome and the narration are the
deploy's record. One deploy of an app at a time.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from flowapp.apps import FlowApp, load_app
from flowapp.apps.sources import BadArchive, unpack_archive
from flowapp.dsl.problems import DefinitionError
from flowapp.gitrepos.errors import GitRepoError
from flowapp.local.app_records import ensure_app_record, require_app
from flowapp.local.hosts import RevisionHosts
from flowapp.local.projects import Projects
from flowapp.local.pushes import check_commit
from flowapp.local.revisions import ENVIRONMENT_RECORD, RevisionFailed
from flowapp.local.runpolicy import RunPolicies
from flowapp.local.serving import Serving
from flowapp.local.trigger_set import TriggerSet
from flowapp.server import platform as p
from flowapp.store.platform.port import AppStore
from flowapp.store.platform.records import DeployRecord, DeployStep

log = logging.getLogger(__name__)


class Deployer:
    def __init__(
        self,
        store: AppStore,
        projects: Projects,
        run_policies: RunPolicies,
        hosts: RevisionHosts,
        serving: Serving,
        triggers: TriggerSet,
        *,
        owner: str,
        clock: Callable[[], float],
    ) -> None:
        """``owner``: the engine process this is (``flowapp up --owner``): its deploys
        are its own, and those it left running when it stopped are failed at start."""
        self.store = store
        self.projects = projects
        self.run_policies = run_policies
        self.hosts = hosts
        self.serving = serving
        self.triggers = triggers
        self.owner = owner
        self.clock = clock
        self._deploying: dict[str, asyncio.Lock] = {}

    async def deploy(self, name: str, *, progress: p.Progress | None = None) -> p.DeployView:
        lock = self._deploying.setdefault(name, asyncio.Lock())
        async with lock:
            await require_app(self.store, name)
            staging = self.hosts.data_dir / "revisions" / f".staging-{uuid.uuid4().hex}"
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

    def forget(self, name: str) -> None:
        """The app was deleted."""
        self._deploying.pop(name, None)

    async def fail_interrupted(self) -> None:
        """At start: this process's deploys that a crash or a stop cut short failed."""
        now = self.clock()
        failed = await asyncio.to_thread(
            lambda: self.store.fail_interrupted_deploys(self.owner, now=now, message=INTERRUPTED)
        )
        for deploy in failed:
            message = f"deploy {deploy.id} of {deploy.revision_id} {INTERRUPTED}"
            log.warning("%s: %s", deploy.app, message)
            self.serving.roll_out(deploy.app, deploy.revision_id, "failed", message)

    def check_pushed_commit(self, name: str, commit: str) -> list[str]:
        """What keeps a pushed commit from deploying (``pushes.py``); blocking."""
        projects = self.projects
        return check_commit(
            projects.repositories, name, commit, self.hosts.data_dir, projects.environment
        )

    async def _stage(self, name: str, staging: Path, narration: _Narration) -> FlowApp:
        repositories = self.projects.repositories
        head = await asyncio.to_thread(repositories.head, name)
        if head is None:
            raise p.DeployFailed(f"app {name} has no source yet: push to its repository first")
        await narration.say(f"checking out {head[:12]}")
        try:
            await asyncio.to_thread(repositories.export, name, head, staging)
        except (GitRepoError, OSError, ValueError) as exc:  # a pushed tree is user input
            raise p.DeployFailed(f"the source of {name} cannot be checked out: {exc}") from None
        try:
            app = await asyncio.to_thread(load_app, staging, self.projects.environment)
        except DefinitionError as error:
            raise p.DeployFailed(
                f"the source of {name} is not a valid FlowApp", problems=list(error.problems)
            ) from None
        if app.name != name:
            raise p.DeployFailed(f"the source declares app {app.name!r}, not {name!r}")
        await self.projects.check_webhook_paths(app)
        await self.run_policies.check_runs(app)
        return app

    async def _deploy_staged(
        self, name: str, app: FlowApp, staging: Path, narration: _Narration
    ) -> p.DeployView:
        revision_id, deploy_id = await self._record(name, app, app.digest)
        folder = self.hosts.revision_dir(revision_id)
        if not folder.exists():
            await asyncio.to_thread(_keep_revision, staging, folder, app.environment)
        if app.environment is not None:
            await narration.say(f"with config/{app.environment}.yaml")
        await narration.say(f"revision {revision_id}: building and starting functions")
        return await self._switch_to(name, revision_id, deploy_id, narration)

    async def _record(self, name: str, app: FlowApp, digest: str) -> tuple[str, int]:
        """A revision of ``app`` with ``digest`` (the latest if it has it), and a running
        deploy of it by this process."""
        now = self.clock()
        store = self.store
        revision = await asyncio.to_thread(
            lambda: store.create_revision(name, digest=digest, resource=app.resource, now=now)
        )
        deploy = await asyncio.to_thread(
            lambda: store.create_deploy(name, revision_id=revision.id, now=now, owner=self.owner)
        )
        return revision.id, deploy.id

    async def deploy_in_place(self, folder: Path) -> p.DeployView:
        """``flowapp dev``: serve a project folder as it is, without copying it, so that
        edits reach the running functions (the folder is linked as the revision's)."""
        try:
            app = await asyncio.to_thread(load_app, folder, self.projects.environment)
        except DefinitionError as error:
            raise p.InvalidResource("not a valid FlowApp", problems=list(error.problems)) from None
        await ensure_app_record(self.store, app, now=self.clock())
        await self.run_policies.check_runs(app)
        digest = f"dev:{folder}:{uuid.uuid4().hex}"
        revision_id, deploy_id = await self._record(app.name, app, digest)
        link = self.hosts.revision_dir(revision_id)
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.exists():
            link.symlink_to(folder.resolve(), target_is_directory=True)
        return await self._switch_to(app.name, revision_id, deploy_id)

    async def _switch_to(
        self, name: str, revision_id: str, deploy_id: int, narration: _Narration | None = None
    ) -> p.DeployView:
        narration = narration or _Narration(None)
        self.serving.roll_out(name, revision_id, "building")
        try:
            host = await self.hosts.host(name, revision_id)
        except (RevisionFailed, DefinitionError, OSError) as exc:
            message = f"revision {revision_id} failed: {exc}"
            await narration.say(message)
            self.serving.roll_out(name, revision_id, "failed", message)
            await self._finish(revision_id, deploy_id, "failed", message, narration, str(exc))
            raise p.DeployFailed(message + "; the previous revision keeps serving") from None
        await asyncio.to_thread(lambda: self.store.set_revision_status(revision_id, status="ready"))
        await asyncio.to_thread(self.store.set_traffic, name, [(revision_id, 100)])
        self.serving.roll_out(name, revision_id, "ready")
        self.serving.set_traffic(name, [(revision_id, 100)])
        await self.triggers.restart(name, host.app)
        await narration.say(f"traffic switched to {revision_id}")
        message = f"{revision_id} serves 100% of {name}"
        return _deploy_view(await self._finish(None, deploy_id, "succeeded", message, narration))

    async def _finish(
        self,
        failed_revision: str | None,
        deploy_id: int,
        status: str,
        message: str,
        narration: _Narration,
        why: str = "",
    ) -> DeployRecord:
        """The deploy's outcome and log (and its revision's failure) in the store."""
        store, now = self.store, self.clock()
        if failed_revision is not None:
            await asyncio.to_thread(
                lambda: store.set_revision_status(failed_revision, status="failed", message=why)
            )
        return await asyncio.to_thread(
            lambda: store.update_deploy(
                deploy_id, DeployStep(status, message, narration.log()), now=now
            )
        )

    async def upload_source(
        self, name: str, archive: bytes, *, progress: p.Progress | None = None
    ) -> p.DeployView:
        try:
            files = await asyncio.to_thread(unpack_archive, archive)
        except BadArchive as exc:
            raise p.archive_refused(str(exc), exc.member) from None
        app = await self.projects.check_project(files)
        if app.name != name:
            raise p.PlatformError(f"the project declares app {app.name!r}, not {name!r}")
        await self.projects.check_webhook_paths(app)
        await _Narration(progress).say(f"received {len(files)} files")
        await self.projects.create_with_source(app, files, "Upload from flowapp deploy")
        return await self.deploy(name, progress=progress)

    async def on_push(self, name: str, commit: str) -> p.DeployView | None:
        try:
            return await self.deploy(name)
        except p.PlatformError:
            return None  # recorded in the deploy history; git already has the push

    async def list_revisions(self, name: str) -> list[p.RevisionView]:
        await require_app(self.store, name)
        records = await asyncio.to_thread(self.store.list_revisions, name)
        return [
            p.RevisionView(r.id, r.app, r.number, r.digest, r.status, r.message, r.created_at)
            for r in records
        ]

    async def list_deploys(self, name: str) -> list[p.DeployView]:
        await require_app(self.store, name)
        records = await asyncio.to_thread(self.store.list_deploys, name)
        return [_deploy_view(record) for record in records]

    async def get_deploy(self, name: str, deploy_id: int) -> p.DeployView:
        await require_app(self.store, name)
        record = await asyncio.to_thread(self.store.get_deploy, deploy_id)
        if record is None or record.app != name:
            raise p.NotFound(f"app {name} has no deploy {deploy_id}")
        return _deploy_view(record)


INTERRUPTED = "was interrupted: flowapp stopped before it finished (deploy again)"


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
