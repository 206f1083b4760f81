"""Putting the platform together on one machine: what ``flowapp up`` and ``flowapp dev`` run.

    stores (SQLite in the data dir, or PostgreSQL) -> runtime (engine) -> event bus
    -> local platform (revisions, functions, triggers) -> syncer and alerts -> API server

Nothing here has logic of its own beyond order of start and stop; each piece is in its
own package.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import uvicorn
from prometheus_client import CollectorRegistry

from flowapp.events import Subscription, open_broker
from flowapp.functions.tracecontext import tracing_configured
from flowapp.gitrepos import Repositories, git_http_app
from flowapp.local.alerts import AlertEvaluator, NotificationSender, Periodic
from flowapp.local.datadir import secure_data_dir
from flowapp.local.platform import LocalPlatform
from flowapp.local.retention import RetentionSweeper, app_retentions
from flowapp.local.syncer import Syncer
from flowapp.runtime.deciders.base import Decider
from flowapp.runtime.deciders.choice import DeciderSettings, decider_for
from flowapp.runtime.deciders.settings import (
    DEFAULT_DECISION_SECONDS,
    DEFAULT_MEMORY_MIB,
    DEFAULT_WORKERS,
)
from flowapp.runtime.dispatch import Effects
from flowapp.runtime.effects.functions import FunctionRouter
from flowapp.runtime.effects.http import HttpEffects
from flowapp.runtime.effects.process import ProcessEffects
from flowapp.runtime.egress import EgressPolicy
from flowapp.runtime.journal import DecisionJournal
from flowapp.runtime.metrics import RuntimeMetrics
from flowapp.runtime.runtime import Runtime
from flowapp.runtime.secrets import AppSecrets, load_key_ring, redacting_logs
from flowapp.sandbox import Sandbox, SandboxSettings, open_sandbox
from flowapp.server.app import create_app
from flowapp.server.auth import git_allows
from flowapp.server.dashboard import Dashboard
from flowapp.server.deps import stop_streams
from flowapp.server.metrics_history import MetricsHistory
from flowapp.store import open_store
from flowapp.store.platform import open_platform_store
from flowapp.store.retention import DEFAULT_RETENTION, RetentionPolicy

if TYPE_CHECKING:
    from flowapp.runtime.tracing import Tracing

log = logging.getLogger("flowapp")


@dataclass
class UpSettings:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8080
    db: str | None = None
    owner: str = "local"
    lifecycle_events: bool = False
    apps: list[Path] = field(default_factory=list)
    environment: str | None = None
    # Secrets given at start (app -> name -> value): from --secrets-file, and from the
    # FLOWAPP_SECRETS_<APP> variables (already taken out of the environment).
    file_secrets: dict[str, dict[str, Any]] = field(default_factory=dict)
    environment_secrets: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Which addresses workflows' calls and alert webhooks may reach; open unless given.
    egress: EgressPolicy = field(default_factory=EgressPolicy)
    # How untrusted code is confined, and which run processes every app may start.
    sandbox: SandboxSettings = field(default_factory=SandboxSettings)
    allow_run: frozenset[str] = frozenset()
    own_code: bool = False  # flowapp dev: one's own project on one's own machine
    # Decider processes (0: decide in this process, as `flowapp dev` does), the wall time
    # one turn may take in one before it is killed, and the memory each may use.
    deciders: int = DEFAULT_WORKERS
    decision_seconds: float = DEFAULT_DECISION_SECONDS
    decider_memory_mib: int = DEFAULT_MEMORY_MIB
    # How long finished executions are kept (seconds; None: for ever).
    retention: float | None = DEFAULT_RETENTION

    @property
    def db_url(self) -> str:
        return self.db or f"sqlite:///{self.data_dir / 'flowapp.db'}"

    @property
    def scale_out(self) -> bool:
        return not self.db_url.startswith("sqlite")


@dataclass
class Platform:
    settings: UpSettings
    store: Any
    platform_store: Any
    runtime: Runtime
    platform: LocalPlatform
    broker: Any
    metrics: CollectorRegistry
    repositories: Repositories
    secrets: AppSecrets
    admin_token: str | None = None
    sandbox: Sandbox | None = None
    metrics_history: MetricsHistory | None = None


def open_tracing(metrics: CollectorRegistry | None) -> Tracing | None:
    """Spans exported to ``OTEL_EXPORTER_OTLP_ENDPOINT`` when it is set; else None, and
    OpenTelemetry is not imported."""
    if not tracing_configured(os.environ):
        return None
    from flowapp.runtime.tracing import Tracing

    return Tracing.from_environment(os.environ, registry=metrics)


def ensure_admin_token(platform_store: Any, now: float) -> str | None:
    """On first start, an admin token (its plaintext is shown once)."""
    if platform_store.count_tokens() > 0:
        return None
    _, plaintext = platform_store.create_token("admin", role="admin", now=now)
    return str(plaintext)


@contextlib.asynccontextmanager
async def platform_running(settings: UpSettings) -> AsyncIterator[Platform]:
    tightened = await asyncio.to_thread(secure_data_dir, settings.data_dir)
    if (warning := tightened.warning()) is not None:
        log.warning("%s", warning)
    sandbox_settings = replace(settings.sandbox, hidden=(settings.data_dir,))
    sandbox, warnings = await asyncio.to_thread(open_sandbox, sandbox_settings)
    if not (settings.own_code and sandbox.mode == "off"):  # flowapp dev: no alarm for it
        for warning in warnings:
            log.warning("%s", warning)
    store = open_store(settings.db_url)
    platform_store = open_platform_store(settings.db_url)
    await asyncio.to_thread(store.migrate)
    await asyncio.to_thread(platform_store.migrate)
    token = await asyncio.to_thread(ensure_admin_token, platform_store, time.time())
    metrics = CollectorRegistry()
    broker = open_broker(f"sqlite:///{settings.data_dir / 'bus.db'}")
    holder: dict[str, LocalPlatform] = {}
    router = FunctionRouter(lambda workflow: holder["platform"].functions_of(workflow))

    async def allowed_runs(app: str | None) -> frozenset[str]:
        return await holder["platform"].allowed_runs(app)

    processes = ProcessEffects(sandbox=sandbox, allowed=allowed_runs)
    effects = Effects(
        http=HttpEffects(policy=settings.egress),
        functions=router,
        publish=broker.publish,
        processes=processes,
    )
    journal = DecisionJournal(settings.data_dir / "decisions.journal")
    secrets = await _app_secrets(settings, platform_store)
    runtime = Runtime(
        store,
        effects=effects,
        owner=settings.owner,
        decider=_decider(settings),
        journal=journal,
        metrics=RuntimeMetrics(metrics),
        tracing=open_tracing(metrics),
        lifecycle=_publisher(broker) if settings.lifecycle_events else None,
        secrets=secrets.for_app,
    )
    sandbox.secrets = secrets.environment_for  # what an app's processes get of its secrets
    repositories = _repositories(settings.data_dir)
    platform = LocalPlatform(
        data_dir=settings.data_dir,
        runtime=runtime,
        platform_store=platform_store,
        repositories=repositories,
        metrics=metrics,
        broker=broker,
        environment=settings.environment,
        sandbox=sandbox,
        allow_run=settings.allow_run,
    )
    holder["platform"] = platform
    await broker.start()
    await broker.subscribe(Subscription("flowapp-runtime", _router_of(runtime)))
    await runtime.start(recover=True, scale_out=settings.scale_out)
    await platform.start()
    history = MetricsHistory(metrics)
    watchers: list[Syncer | AlertEvaluator | NotificationSender | Periodic | RetentionSweeper] = [
        Syncer(platform_store, platform.observe),
        AlertEvaluator(store, platform_store, metrics),
        NotificationSender(platform_store, policy=settings.egress),
        _sampling(history),
    ]
    if settings.retention is not None:
        watchers.append(_retention_sweeper(store, platform, settings.retention))
    for watcher in watchers:
        await watcher.start()
    running = Platform(
        settings,
        store,
        platform_store,
        runtime,
        platform,
        broker,
        metrics,
        repositories,
        secrets,
        token,
        sandbox,
        metrics_history=history,
    )
    with redacting_logs(secrets.known_everywhere):
        try:
            yield running
        finally:
            for watcher in reversed(watchers):
                await watcher.stop()
            await platform.stop()
            await runtime.stop()
            await secrets.stop()
            await broker.stop()
            store.close()
            platform_store.close()


def _retention_sweeper(store: Any, platform: LocalPlatform, default: float) -> RetentionSweeper:
    """The server's retention, and each app's own for the apps whose revisions serve."""

    def policy() -> RetentionPolicy:
        apps = [host.app for host in list(platform.hosts.values())]
        return RetentionPolicy(default=default, per_app=app_retentions(apps))

    return RetentionSweeper(store, policy)


def _sampling(history: MetricsHistory) -> Periodic:
    """The metrics panels' history, sampled in the background (at each step, also when
    nobody reads it) so that a window always has its start."""

    async def sample() -> None:
        await asyncio.to_thread(history.sample)

    return Periodic("metrics history", sample, history.step)


async def _app_secrets(settings: UpSettings, platform_store: Any) -> AppSecrets:
    """Apps' secrets: the key ring (``FLOWAPP_SECRETS_KEY`` or the data dir's key file),
    what was given at start, and the store, re-sealed under the current key."""
    ring = await asyncio.to_thread(load_key_ring, settings.data_dir, os.environ)
    secrets = AppSecrets(
        platform_store,
        ring,
        file=settings.file_secrets,
        environment=settings.environment_secrets,
    )
    await secrets.start()
    return secrets


def _decider(settings: UpSettings) -> Decider:
    return decider_for(
        DeciderSettings(
            workers=settings.deciders,
            decision_seconds=settings.decision_seconds,
            memory_mib=settings.decider_memory_mib,
        )
    )


def _router_of(runtime: Runtime) -> Any:
    async def deliver(event: dict[str, Any]) -> None:
        await runtime.offer_event(event)

    return deliver


def _publisher(broker: Any) -> Any:
    """Lifecycle events are published after each commit, without holding the pump."""
    pending: set[asyncio.Task[Any]] = set()

    def publish(events: list[dict[str, Any]]) -> None:
        for event in events:
            task = asyncio.get_running_loop().create_task(broker.publish(event))
            pending.add(task)
            task.add_done_callback(pending.discard)

    return publish


def _repositories(data_dir: Path) -> Repositories:
    return Repositories(data_dir / "repos")


def api_app(running: Platform) -> Any:
    mounts = {"/git": _git_mount(running)}
    return create_app(
        platform=running.platform,
        store=running.store,
        platform_store=running.platform_store,
        metrics=running.metrics,
        mounts=mounts,
        dashboard=Dashboard(),
        secrets=running.secrets,
        metrics_history=running.metrics_history,
    )


def _git_mount(running: Platform) -> Any:
    platform_store = running.platform_store
    deploys: set[asyncio.Task[Any]] = set()

    async def authenticate(app: str, username: str | None, password: str | None) -> bool:
        if not password:
            return False
        token = await asyncio.to_thread(platform_store.verify_token, password, now=time.time())
        return token is not None and git_allows(token, app)

    async def on_push(app: str, old: str, new: str) -> None:
        # `git push` waits for this hook: deploy in the background, report in the history.
        task = asyncio.get_running_loop().create_task(running.platform.on_push(app, new))
        deploys.add(task)
        task.add_done_callback(deploys.discard)

    return git_http_app(
        running.repositories,
        authenticate=authenticate,
        on_push=on_push,
        check_push=running.platform.check_pushed_commit,  # a project that cannot deploy
    )


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGTERM/SIGINT after it stops, which would kill the process
    before the platform stops its function processes; we handle them ourselves."""

    @contextlib.contextmanager
    def capture_signals(self) -> Any:
        yield

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # Live streams (a run view's) last until their execution ends: end them first,
        # or uvicorn would wait for every open dashboard to go away.
        stop_streams(self.config.app)
        await super().shutdown(sockets)


async def serve_http(app: Any, listener: socket.socket) -> None:
    """Serve ``app`` on ``listener``, a socket bound before the platform started
    (``flowapp.local.instance.bind_listener``: ``SO_REUSEADDR``, so a restart right
    after a crash binds at once)."""
    host, port = listener.getsockname()[:2]
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
    server = _Server(config)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, lambda: setattr(server, "should_exit", True))
    await server.serve(sockets=[listener])
