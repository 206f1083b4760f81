"""One engine replica of an app on a cluster, put together: what ``flowapp cluster-engine``
runs in the FlowApp operator's ``<app>-engine`` Deployment.

    app file (ConfigMap) ─> stores (the app's schema) ─> runtime (scale-out, leases)
        functions: RemoteFunctions at the Knative Services' URLs
        emit:      BrokerPublisher to the Broker's ingress
    ─> triggers the engine runs (``triggers.py``) ─> API server (port) + deliveries (port)

Compared with ``flowapp up``: no function supervisor (functions are Knative Services),
no git hosting and no deploys (the app is the FlowApp object's), no event bus of its own
(the Broker is it), no sandbox (no ``run`` processes), and always several replicas on
one database. The API is the same, with the same tokens.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry

from flowapp.apps.model import FlowApp
from flowapp.cluster.app import (
    ClusterApp,
    SettingsError,
    function_urls,
    load_app_file,
    revision_of,
)
from flowapp.cluster.database import is_postgresql, prepare_schema, schema_name
from flowapp.cluster.leader import Leases, PostgresLeases, SoleLeases
from flowapp.cluster.listeners import ListenerDelivery
from flowapp.cluster.platform import ClusterPlatform
from flowapp.cluster.split import parse_split
from flowapp.cluster.triggers import ClusterTriggers
from flowapp.events.publisher import BrokerPublisher
from flowapp.functions.remote import RemoteFunctions
from flowapp.functions.tracecontext import tracing_configured
from flowapp.local.schedules import after_delay, schedule_again
from flowapp.local.triggers import FileCronState
from flowapp.runtime.deciders.choice import DeciderSettings, decider_for
from flowapp.runtime.dispatch import Effects
from flowapp.runtime.effects.functions import FunctionRouter
from flowapp.runtime.effects.http import HttpEffects
from flowapp.runtime.effects.process import ProcessEffects
from flowapp.runtime.egress import EgressPolicy
from flowapp.runtime.journal import DecisionJournal
from flowapp.runtime.metrics import RuntimeMetrics
from flowapp.runtime.registry import LoadedWorkflow
from flowapp.runtime.runtime import Runtime
from flowapp.store import open_store
from flowapp.store.platform import open_platform_store
from flowapp.triggers.base import TriggerConfig
from flowapp.triggers.cron_trigger import MemoryCronState

if TYPE_CHECKING:
    from flowapp.runtime.tracing import Tracing

log = logging.getLogger("flowapp")


@dataclass(frozen=True, kw_only=True)
class ClusterSettings:
    app_file: Path
    db: str
    owner: str
    environ: Mapping[str, str]  # where FLOWAPP_FUNCTION_URL_<NAME> are read
    functions: Mapping[str, str] = field(default_factory=dict)  # NAME=URL given
    broker_url: str | None = None
    knative_sources: frozenset[str] = frozenset()
    data_dir: Path | None = None
    lease_seconds: float = 10.0
    function_timeout: float = 30.0
    egress: EgressPolicy = field(default_factory=EgressPolicy)
    secrets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    traffic: str | None = None  # FLOWAPP_TRAFFIC: the split between revisions (split.py)
    # Decisions in worker processes, as on flowapp up: one workflow's expression cannot
    # hold a replica's API, and a turn past its time faults its execution alone.
    deciders: DeciderSettings = field(default_factory=DeciderSettings)


@dataclass
class RunningEngine:
    app: ClusterApp
    platform: ClusterPlatform
    runtime: Runtime
    listeners: ListenerDelivery
    store: Any
    platform_store: Any
    metrics: CollectorRegistry
    admin_token: str | None
    sourced: dict[str, TriggerConfig]  # the triggers whose events Knative delivers

    async def readiness(self) -> str | None:
        """None when this replica can take work; else why not."""
        try:
            async with asyncio.timeout(2.0):
                await self.runtime.committer.run_in_writer(self.store.get_execution, "-")
        except Exception as exc:
            return f"the database does not answer: {exc or type(exc).__name__}"
        return None


@contextlib.asynccontextmanager
async def engine_running(settings: ClusterSettings) -> AsyncIterator[RunningEngine]:
    flowapp = await asyncio.to_thread(load_app_file, settings.app_file)
    urls = function_urls(flowapp, settings.environ, settings.functions)
    routes = parse_split(settings.traffic, flowapp.functions) if settings.traffic else []
    _check_sources(flowapp.name, {t.name for t in flowapp.triggers}, settings.knative_sources)
    url, leases = await _database(settings.db, flowapp.name)
    store, platform_store = open_store(url), open_platform_store(url)
    await asyncio.to_thread(store.migrate)
    await asyncio.to_thread(platform_store.migrate)
    token = await _first_admin_token(platform_store, leases)
    callers = _Callers(flowapp.name, settings.function_timeout, urls)
    publisher = BrokerPublisher(settings.broker_url) if settings.broker_url else None
    metrics = CollectorRegistry()
    runtime = _runtime(settings, store, callers.router(), publisher, RuntimeMetrics(metrics))
    split = []
    for route in routes:
        registered = await _register(runtime, flowapp, f"{flowapp.name}-{route.revision}")
        callers.add(registered.revision or "", route.urls)
        split.append((registered, route.percent))
    if split:
        workflow = max(split, key=lambda pair: pair[1])[0]
    else:
        workflow = await _register(runtime, flowapp, revision_of(flowapp))
    app = ClusterApp(flowapp, workflow, urls, split=split)
    platform = ClusterPlatform(app, runtime)
    triggers = ClusterTriggers(
        flowapp,
        platform.start_for_trigger,
        knative_sources=settings.knative_sources,
        leases=leases,
        cron_state=_cron_state(settings.data_dir),
    )
    app.triggers = triggers
    await runtime.start(recover=True, scale_out=is_postgresql(url))
    # Not a constructor argument: the platform that schedules the next starts is built
    # from the runtime.
    runtime.on_finished.append(_schedule_after(platform))
    try:
        await triggers.start()
        log.info("engine %s serves %s (revision %s)", settings.owner, app.name, app.revision)
        yield RunningEngine(
            app,
            platform,
            runtime,
            ListenerDelivery(flowapp, runtime, platform.start_execution),
            store,
            platform_store,
            metrics,
            token,
            {t.name: t for t in flowapp.triggers if t.name in settings.knative_sources},
        )
    finally:
        await triggers.stop()
        await runtime.stop()
        await _hand_over(store, settings.owner)
        await callers.close()
        if publisher is not None:
            await publisher.aclose()
        store.close()
        platform_store.close()


def _check_sources(app: str, triggers: set[str], sources: frozenset[str]) -> None:
    unknown = sorted(sources - triggers)
    if unknown:
        raise SettingsError(f"app {app} has no trigger(s) {', '.join(unknown)} (--knative-source)")


async def _database(db: str, app: str) -> tuple[str, Leases]:
    """The URL of the app's own schema, and how its replicas elect leaders."""
    if not is_postgresql(db):
        return db, SoleLeases()
    schema = schema_name(app)
    url = await asyncio.to_thread(prepare_schema, db, schema)
    return url, PostgresLeases(db, scope=schema)


async def _hand_over(store: Any, owner: str) -> None:
    """Give this replica's leases back as it stops (a rolling update, a scale-down), so the
    others take its executions over at once instead of when the leases run out."""
    try:
        await asyncio.to_thread(store.release_leases, owner)
    except Exception as exc:  # the database is gone: the leases run out by themselves
        log.warning("engine %s could not hand its executions over: %s", owner, exc)


async def _register(runtime: Runtime, flowapp: FlowApp, revision: str) -> LoadedWorkflow:
    return await asyncio.to_thread(
        runtime.registry.add,
        flowapp.workflow,
        app_functions=frozenset(flowapp.functions),
        app=flowapp.name,
        revision=revision,
        limits=flowapp.limits,
    )


class _Callers:
    """The functions' addresses: the Services' own, and each split revision's."""

    def __init__(self, app: str, timeout: float, urls: Mapping[str, str]) -> None:
        self.app = app
        self.timeout = timeout
        self.default = RemoteFunctions(urls, app=app, timeout=timeout)
        self.by_revision: dict[str, RemoteFunctions] = {}

    def add(self, revision: str, urls: Mapping[str, str]) -> None:
        self.by_revision[revision] = RemoteFunctions(urls, app=self.app, timeout=self.timeout)

    def router(self) -> FunctionRouter:
        """Calls of an execution go to its revision's addresses while it is in the split,
        else to the Services' own."""
        return FunctionRouter(
            lambda workflow: self.by_revision.get(workflow.revision or "", self.default)
        )

    async def close(self) -> None:
        for caller in (self.default, *self.by_revision.values()):
            await caller.close()


def _runtime(
    settings: ClusterSettings,
    store: Any,
    functions: FunctionRouter,
    publisher: BrokerPublisher | None,
    metrics: RuntimeMetrics,
) -> Runtime:
    async def no_runs(app: str | None) -> frozenset[str]:
        return frozenset()  # no sandbox here: no run processes (shell, script, container)

    effects = Effects(
        http=HttpEffects(policy=settings.egress),
        functions=functions,
        publish=publisher.publish if publisher is not None else None,
        processes=ProcessEffects(allowed=no_runs),
    )
    journal = (
        DecisionJournal(settings.data_dir / "decisions.journal") if settings.data_dir else None
    )
    secrets = {app: dict(values) for app, values in settings.secrets.items()}
    return Runtime(
        store,
        effects=effects,
        owner=settings.owner,
        decider=decider_for(settings.deciders),
        journal=journal,
        lease_seconds=settings.lease_seconds,
        metrics=metrics,
        tracing=_tracing(settings.environ, metrics.registry),
        secrets=lambda app: secrets.get(app or "", {}),
    )


def _tracing(environ: Mapping[str, str], registry: CollectorRegistry) -> Tracing | None:
    """Spans to ``OTEL_EXPORTER_OTLP_ENDPOINT`` when it is set (OpenTelemetry is imported
    only then)."""
    if not tracing_configured(environ):
        return None
    from flowapp.runtime.tracing import Tracing

    return Tracing.from_environment(environ, registry=registry)


async def _first_admin_token(platform_store: Any, leases: Leases) -> str | None:
    """The app's first admin token, made by one replica only (the others wait for it)."""
    lease = leases.lease("admin-token")
    deadline = time.monotonic() + 60.0
    while not await lease.acquire():
        if time.monotonic() > deadline:
            raise TimeoutError("another replica holds the admin-token lock for a minute")
        await asyncio.sleep(0.2)
    try:
        if await asyncio.to_thread(platform_store.count_tokens) > 0:
            return None
        _, plaintext = await asyncio.to_thread(
            platform_store.create_token, "admin", role="admin", now=time.time()
        )
        return str(plaintext)
    finally:
        await lease.release()


def _cron_state(data_dir: Path | None) -> Any:
    """Catch-up state of this replica's cron triggers (its data dir, else memory)."""
    if data_dir is None:
        return MemoryCronState()
    data_dir.mkdir(parents=True, exist_ok=True)
    return FileCronState(data_dir / "cron-state.json")


def _schedule_after(platform: ClusterPlatform) -> Any:
    """``schedule.after``: a completed execution starts the next one that much later."""
    delay = after_delay(platform.app.flowapp)

    def finished(live: Any) -> None:
        ours = live.workflow.app == platform.app.name
        if delay is not None and ours and live.state.status == "completed":
            schedule_again(delay, lambda: platform.start_execution(None, None))

    return finished
