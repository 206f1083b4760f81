"""The revisions running on this machine, by ``(app, revision)``.

    deployer / traffic / invoker --host(app, revision)--> started once (a lock each)
    runtime --functions_of(workflow)--> the revision's supervisor, or a caller that
        starts it on demand (``on_demand.RevisionCaller``)
    janitor (every 5 s) --> stops the revisions without traffic and unfinished executions

A revision is started from its immutable folder, ``<data>/revisions/<revision id>``, with
the environment it was made for. Which revisions have traffic is ``Serving``'s to say;
this only runs them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path

from flowapp.apps import FlowApp, load_app
from flowapp.functions.metrics import FunctionMetrics
from flowapp.functions.port import FunctionCaller
from flowapp.functions.supervisor import Supervisor
from flowapp.local.on_demand import RevisionCaller
from flowapp.local.revisions import (
    ENVIRONMENT_RECORD,
    RevisionFunctions,
    RevisionHost,
    RunFunctions,
    start_revision,
)
from flowapp.local.serving import Serving
from flowapp.runtime.registry import LoadedWorkflow
from flowapp.runtime.runtime import Runtime
from flowapp.sandbox import Sandbox
from flowapp.server import platform as p

Key = tuple[str, str]  # (app, revision id)
JANITOR_SECONDS = 5.0


class RevisionHosts(Mapping[Key, RevisionHost]):
    """Reads like a mapping of the running revisions; ``running`` is that mapping."""

    def __init__(
        self,
        *,
        data_dir: Path,
        runtime: Runtime,
        serving: Serving,
        metrics: FunctionMetrics | None = None,
        sandbox: Sandbox | None = None,
        environment: str | None = None,
        run_functions: RunFunctions | None = None,
    ) -> None:
        """``run_functions``: who runs a revision's functions: the supervisor's processes
        unless told otherwise (the test kit calls them in the test's own process)."""
        self.data_dir = data_dir
        self.run_functions = run_functions or self._supervisor
        self.runtime = runtime  # its workflow registry, secrets and live executions
        self.serving = serving
        self.metrics = metrics
        self.sandbox = sandbox
        self.environment = environment
        self.running: dict[Key, RevisionHost] = {}
        self._starting: dict[Key, asyncio.Lock] = {}
        # Set once the platform has started the revisions with traffic: calls waiting
        # in a ``RevisionCaller`` go on then.
        self.started = asyncio.Event()
        self._janitor: asyncio.Task[None] | None = None

    def __getitem__(self, key: Key) -> RevisionHost:
        return self.running[key]

    def __iter__(self) -> Iterator[Key]:
        return iter(self.running)

    def __len__(self) -> int:
        return len(self.running)

    def revision_dir(self, revision_id: str) -> Path:
        return self.data_dir / "revisions" / revision_id

    def environment_of(self, revision_folder: Path) -> str | None:
        """The environment a revision was made for: a revision is immutable, so it keeps
        it even if the platform is restarted for another one. A project folder served in
        place (``flowapp dev``) has no record and follows the platform."""
        record = revision_folder / ENVIRONMENT_RECORD
        if record.is_file():
            return record.read_text(encoding="utf-8").strip() or None
        return self.environment

    async def host(self, name: str, revision_id: str) -> RevisionHost:
        """The revision running here, started if it is not (one start at a time)."""
        key = (name, revision_id)
        async with self._starting.setdefault(key, asyncio.Lock()):
            host = self.running.get(key)
            if host is None:
                host = await self._start(name, revision_id)
                self.running[key] = host
        return host

    async def _start(self, name: str, revision_id: str) -> RevisionHost:
        folder = self.revision_dir(revision_id)
        app = await asyncio.to_thread(load_app, folder, self.environment_of(folder))
        functions = self.run_functions(app, revision_id)
        return await start_revision(app, revision_id, self.runtime.registry, functions=functions)

    def _supervisor(self, app: FlowApp, revision_id: str) -> RevisionFunctions:
        """The revision's functions as processes on this machine."""
        return Supervisor(
            app.functions.values(),
            app=app.name,
            revision=revision_id,
            metrics=self.metrics,
            log_dir=self.data_dir / "logs" / revision_id,
            redact=lambda text: self.runtime.app_secrets(app.name).mask(text),
            sandbox=self.sandbox,
            build_cache=self.data_dir / "build-cache" / app.name,
        )

    def serving_host(self, name: str) -> RevisionHost | None:
        """The app's serving revision, if it runs here."""
        revision = self.serving.primary(name)
        return self.running.get((name, revision)) if revision else None

    def functions_of(self, workflow: LoadedWorkflow) -> FunctionCaller | None:
        """Which functions an execution calls: those of the revision it runs on.

        When that revision is not running here (it lost its traffic and stopped, or
        ``start()`` has not started the revisions yet: the runtime recovers unfinished
        executions first and re-dispatches their calls at once), a caller that waits for
        ``start()`` and then starts the revision on demand; the janitor stops it again
        once none of its executions is unfinished.
        """
        if not workflow.app or not workflow.revision:
            return None
        host = self.running.get((workflow.app, workflow.revision))
        if host is not None:
            return host.supervisor
        app, revision = workflow.app, workflow.revision
        return RevisionCaller(app, revision, self.started, lambda: self.host(app, revision))

    def logs(self, query: p.LogQuery) -> list[p.LogLine]:
        """The last ``limit`` lines of the app's functions, over its running revisions."""
        lines: list[p.LogLine] = []
        for (app, _), host in self.running.items():
            if app != query.app:
                continue
            functions = [query.function] if query.function else list(host.app.functions)
            for each in functions:
                if each not in host.app.functions:
                    continue
                read = host.supervisor.logs(
                    each, execution_id=query.execution_id, limit=query.limit
                )
                for line in read:
                    lines.append(
                        p.LogLine(
                            line.time,
                            app,
                            line.function,
                            line.instance,
                            line.stream,
                            line.text,
                            line.execution_id,
                        )
                    )
        return sorted(lines, key=lambda line: line.time)[-query.limit :]

    async def stop_app(self, name: str) -> None:
        for key in [key for key in self.running if key[0] == name]:
            await self.running.pop(key).stop()

    async def stop_idle(self) -> None:
        """Stop the revisions without traffic that no unfinished execution runs on."""
        busy = {(lv.workflow.app, lv.workflow.revision) for lv in self.runtime.live.values()}
        for key, host in list(self.running.items()):
            if not self.serving.is_serving(*key) and key not in busy:
                del self.running[key]
                await host.stop()

    def start_janitor(self) -> None:
        self._janitor = asyncio.create_task(self._stop_idle_forever())

    async def _stop_idle_forever(self) -> None:
        while True:
            await asyncio.sleep(JANITOR_SECONDS)
            with contextlib.suppress(Exception):
                await self.stop_idle()

    async def stop(self) -> None:
        if self._janitor is not None:
            self._janitor.cancel()
        for host in self.running.values():
            await host.stop()
        self.running.clear()
