"""What every route reaches through ``request.app.state``: the services ``create_app`` got.

Routes declare what they use, ``apps: AppsDep`` (the platform seen as the app catalog),
``deploys: DeploysDep``, ``tokens: TokensDep`` … or ``services: ServicesDep`` for the
settings, the execution store and the rest, and never import a global: ``create_app`` is
pure construction, so two apps (two tests) never share anything.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from fastapi import Depends
from prometheus_client import CollectorRegistry
from starlette.requests import Request

from flowapp.runtime.secrets import AppSecrets
from flowapp.server.metrics_history import MetricsHistory
from flowapp.server.platform import (
    AppLookup,
    AppsPort,
    DeploysPort,
    EventsPort,
    InvocationsPort,
    LogsPort,
    Platform,
    RunPolicyPort,
    SourcesPort,
    WebhooksPort,
)
from flowapp.server.settings import ServerSettings
from flowapp.store.platform import PlatformStore
from flowapp.store.platform.port import AlertStore, TokenStore
from flowapp.store.port import Store

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Services:
    platform: Platform
    store: Store
    platform_store: PlatformStore
    metrics: CollectorRegistry | None
    settings: ServerSettings
    secrets: AppSecrets | None = None  # apps' secrets, when the platform keeps them
    metrics_history: MetricsHistory | None = None  # samples of ``metrics`` over time
    # Deploys streamed to a client that went away keep running; this keeps them referenced.
    background: set[asyncio.Task[Any]] = field(default_factory=set)
    # Set when the server is stopping: live streams end, so that it need not wait for
    # their clients (``stop_streams``).
    stopping: asyncio.Event = field(default_factory=asyncio.Event)


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services)]


# --- the part of the platform (and of its store) each route uses -----------------------
# Each is the same object as ``Services.platform`` (or ``platform_store``), seen through
# the narrow port its routes need.


def _apps(request: Request) -> AppsPort:
    return services(request).platform


def _app_lookup(request: Request) -> AppLookup:
    return services(request).platform


def _deploys(request: Request) -> DeploysPort:
    return services(request).platform


def _invocations(request: Request) -> InvocationsPort:
    return services(request).platform


def _sources(request: Request) -> SourcesPort:
    return services(request).platform


def _run_policies(request: Request) -> RunPolicyPort:
    return services(request).platform


def _logs(request: Request) -> LogsPort:
    return services(request).platform


def _events(request: Request) -> EventsPort:
    return services(request).platform


def _webhooks(request: Request) -> WebhooksPort:
    return services(request).platform


def _tokens(request: Request) -> TokenStore:
    return services(request).platform_store


def _alert_rules(request: Request) -> AlertStore:
    return services(request).platform_store


AppsDep = Annotated[AppsPort, Depends(_apps)]
AppLookupDep = Annotated[AppLookup, Depends(_app_lookup)]
DeploysDep = Annotated[DeploysPort, Depends(_deploys)]
InvocationsDep = Annotated[InvocationsPort, Depends(_invocations)]
SourcesDep = Annotated[SourcesPort, Depends(_sources)]
RunPolicyDep = Annotated[RunPolicyPort, Depends(_run_policies)]
LogsDep = Annotated[LogsPort, Depends(_logs)]
EventsDep = Annotated[EventsPort, Depends(_events)]
WebhooksDep = Annotated[WebhooksPort, Depends(_webhooks)]
TokensDep = Annotated[TokenStore, Depends(_tokens)]
AlertRulesDep = Annotated[AlertStore, Depends(_alert_rules)]


def stop_streams(app: Any) -> None:
    """End the live streams of ``app`` (a ``create_app`` application): the server is
    stopping and would otherwise wait for each stream's client to go away."""
    app.state.services.stopping.set()


async def blocking(function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run a store call in a worker thread: the stores are synchronous by design."""
    return await anyio.to_thread.run_sync(partial(function, *args, **kwargs))
