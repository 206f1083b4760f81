"""The engine replica's two HTTP servers, run until SIGTERM (a pod's stop) or SIGINT.

- the API on ``port`` (8080 on a cluster): ``flowapp.server``'s application, tokens and
  all, over ``ClusterPlatform`` (invoke, executions, events, webhooks, ``/healthz``,
  ``/metrics``);
- the deliveries on ``delivery_port`` (8081): what Knative's Triggers post, and the
  probes (``deliveries.py``).

On SIGTERM both stop taking connections and finish the requests in flight; then the
engine stops (``serve.engine_running``): its leases lapse and the other replicas take its
executions over.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn

from flowapp.cluster.deliveries import create_deliveries
from flowapp.cluster.serve import RunningEngine
from flowapp.server.app import create_app


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGTERM after it stops, which would kill the process before the
    engine stops; the signals are handled in ``serve`` instead."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def api_app(engine: RunningEngine) -> Any:
    return create_app(
        platform=engine.platform,
        store=engine.store,
        platform_store=engine.platform_store,
        metrics=engine.metrics,
    )


def deliveries_app(engine: RunningEngine) -> Any:
    return create_deliveries(
        engine.platform,
        sourced=engine.sourced,
        listeners=engine.listeners,
        ready=engine.readiness,
    )


async def serve(
    engine: RunningEngine,
    *,
    host: str,
    port: int,
    delivery_port: int,
    on_started: Callable[[], None] | None = None,
) -> None:
    servers = [
        _server(api_app(engine), host, port),
        _server(deliveries_app(engine), host, delivery_port),
    ]

    def stop() -> None:
        for server in servers:
            server.should_exit = True

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop)
    tasks = [asyncio.create_task(s.serve()) for s in servers]
    while not all(s.started for s in servers):
        if any(t.done() for t in tasks):
            break
        await asyncio.sleep(0.05)
    if on_started is not None and all(s.started for s in servers):
        on_started()
    try:
        # One server failing (its port taken) stops the other: the pod restarts whole.
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


def _server(app: Any, host: str, port: int) -> _Server:
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
    return _Server(config)
