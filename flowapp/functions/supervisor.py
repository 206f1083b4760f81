"""The local supervisor: runs a FlowApp's functions as processes, the way Knative would.

One :class:`Supervisor` per running app (``flowapp up`` / ``flowapp dev``). It owns one
:class:`~flowapp.functions.pool.FunctionPool` per function (instances, autoscaling,
restarts), keep-alive connections to every instance for the calls
(:class:`~flowapp.functions.connections.Connections`, the cheapest client per call), an
aiohttp session for health checks, a :class:`~flowapp.functions.logs.LogStore` and the
metrics. The runtime calls::

    async with Supervisor(specs, registry=registry) as supervisor:
        output = await supervisor.call(FunctionCall(
            function="append", data={"text": "hi"}, execution_id="e1",
            task_reference="/do/0/append", attempt=1, idempotency_key="e1/do/0/append/1",
        ))

``call`` raises a :class:`~flowapp.functions.errors.FunctionError` subclass when there is
no output; metrics count every call by outcome.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp
from prometheus_client import CollectorRegistry

from flowapp.functions import client
from flowapp.functions.connections import Connections
from flowapp.functions.errors import FunctionError, FunctionTimeout, FunctionUnavailable
from flowapp.functions.launch import UNCONFINED
from flowapp.functions.logs import LogLine, LogStore
from flowapp.functions.metrics import FunctionMetrics
from flowapp.functions.pool import FunctionPool, PoolOptions
from flowapp.functions.port import FunctionCall
from flowapp.functions.scaling import Backoff, FunctionStatus
from flowapp.functions.spec import FunctionSpec
from flowapp.sandbox import Sandbox


class Supervisor:
    """Starts, routes to, scales, restarts and stops the functions of one app."""

    def __init__(
        self,
        functions: Iterable[FunctionSpec],
        *,
        app: str = "default",
        revision: str = "",
        registry: CollectorRegistry | None = None,
        metrics: FunctionMetrics | None = None,
        log_dir: Path | None = None,
        log_capacity: int = 2000,
        grace_period: float = 10.0,
        max_failed_starts: int = 5,
        backoff: Backoff | None = None,
        pip_args: Iterable[str] = (),
        redact: Callable[[str], str] | None = None,
        sandbox: Sandbox | None = None,
        build_cache: Path | None = None,
    ) -> None:
        specs = list(functions)
        names = [spec.name for spec in specs]
        if len(set(names)) != len(names):
            raise ValueError(f"function names must be unique, got {names}")
        self.app = app
        self.revision = revision  # labels the metrics of this revision's functions
        # Several supervisors (revisions) may share one registry through one metrics object.
        if metrics is None:
            metrics = FunctionMetrics(registry if registry is not None else CollectorRegistry())
        self.metrics = metrics
        self._logs = LogStore(capacity=log_capacity, directory=log_dir, redact=redact)
        options = PoolOptions(
            app=app,
            revision=revision,
            grace_period=grace_period,
            max_failed_starts=max_failed_starts,
            backoff=backoff or Backoff(),
            pip_args=tuple(pip_args),
            sandbox=sandbox or UNCONFINED,
            build_cache=build_cache,
        )
        self._pools = {
            spec.name: FunctionPool(spec, options=options, logs=self._logs, metrics=self.metrics)
            for spec in specs
        }
        self._session: aiohttp.ClientSession | None = None
        self._connections: Connections | None = None

    @property
    def specs(self) -> dict[str, FunctionSpec]:
        return {name: pool.spec for name, pool in self._pools.items()}

    async def start(self) -> None:
        """Build every function and start its ``min`` instances.

        Returns once each function's first start attempt is over; a function that cannot
        start does not make this raise: its status says ``failing`` or ``starting``.
        """
        # Health checks only (and a pool retiring an instance): calls go over _connections.
        connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=15)
        self._session = aiohttp.ClientSession(connector=connector)
        self._connections = Connections()
        await asyncio.gather(*(pool.start(self._session) for pool in self._pools.values()))

    async def stop(self) -> None:
        """Stop every instance (SIGTERM, then SIGKILL after the grace period)."""
        await asyncio.gather(*(pool.stop() for pool in self._pools.values()))
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._connections is not None:
            self._connections.close()
            self._connections = None
        self._logs.close()

    async def __aenter__(self) -> Supervisor:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def call(self, call: FunctionCall) -> Any:
        """Make ``call`` and return the function's output.

        ``call.app`` defaults to the supervisor's; ``call.timeout`` to the function's.
        """
        pool = self._pool(call.function)
        app = call.app or self.app
        headers, body = client.encode_call(call, app=app)
        return await self._measured(app, pool, headers, body, call.timeout or pool.spec.timeout)

    async def _measured(
        self, app: str, pool: FunctionPool, headers: dict[str, str], body: bytes, timeout: float
    ) -> Any:
        name = pool.spec.name
        started = time.perf_counter()
        self.metrics.call_started(app, name, revision=self.revision)
        code = "2xx"
        try:
            return await self._send(pool, headers, body, timeout)
        except FunctionError as exc:
            code = exc.metric_code
            raise
        except asyncio.CancelledError:
            code = "cancelled"
            raise
        finally:
            seconds = time.perf_counter() - started
            self.metrics.call_finished(
                app, name, code=code, seconds=seconds, revision=self.revision
            )

    async def _send(
        self, pool: FunctionPool, headers: dict[str, str], body: bytes, timeout: float
    ) -> Any:
        connections = self._connections
        if connections is None:
            raise FunctionUnavailable(pool.spec.name, "the supervisor is not started")
        instance = await pool.acquire()
        replied, broken = False, False
        try:
            output = await client.invoke(
                connections, instance.url, function=pool.spec.name, headers=headers, body=body,
                timeout=timeout,
            )  # fmt: skip
            replied = True
            return output
        except FunctionUnavailable:
            broken = True
            raise
        except FunctionError as exc:
            replied = not isinstance(exc, FunctionTimeout)
            raise
        finally:
            pool.release(instance, ok=replied, broken=broken)

    def status(self) -> dict[str, FunctionStatus]:
        return {name: pool.status() for name, pool in self._pools.items()}

    def logs(
        self, function: str, *, execution_id: str | None = None, limit: int = 100
    ) -> list[LogLine]:
        """The last ``limit`` output lines of ``function``, optionally of one execution."""
        self._pool(function)
        return self._logs.query(function, execution_id=execution_id, limit=limit)

    async def reload(self, name: str) -> None:
        """Restart ``name``'s instances on fresh code (rebuilding dependencies if changed)."""
        await self._pool(name).reload()

    def _pool(self, name: str) -> FunctionPool:
        try:
            return self._pools[name]
        except KeyError:
            raise FunctionUnavailable(name, "no such function in this app") from None
