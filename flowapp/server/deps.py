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
# The same object as ``Services.platform`` (or ``platform_store``), typed as the narrow
# port its routes need: a route depends on what it uses, not on the whole platform.


def platform(request: Request) -> Platform:
    return services(request).platform


def platform_store(request: Request) -> PlatformStore:
    return services(request).platform_store


AppsDep = Annotated[AppsPort, Depends(platform)]
AppLookupDep = Annotated[AppLookup, Depends(platform)]
DeploysDep = Annotated[DeploysPort, Depends(platform)]
InvocationsDep = Annotated[InvocationsPort, Depends(platform)]
SourcesDep = Annotated[SourcesPort, Depends(platform)]
RunPolicyDep = Annotated[RunPolicyPort, Depends(platform)]
LogsDep = Annotated[LogsPort, Depends(platform)]
EventsDep = Annotated[EventsPort, Depends(platform)]
WebhooksDep = Annotated[WebhooksPort, Depends(platform)]
TokensDep = Annotated[TokenStore, Depends(platform_store)]
AlertRulesDep = Annotated[AlertStore, Depends(platform_store)]


def stop_streams(app: Any) -> None:
    """End the live streams of ``app`` (a ``create_app`` application): the server is
    stopping and would otherwise wait for each stream's client to go away."""
    app.state.services.stopping.set()


async def blocking(function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run a store call in a worker thread: the stores are synchronous by design."""
    return await anyio.to_thread.run_sync(partial(function, *args, **kwargs))
