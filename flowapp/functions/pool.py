"""The instances of one function: routing calls, autoscaling, restarts, failing state.

This is the stateful half of Knative Serving's activator and autoscaler for one
function on one machine; the decisions themselves are pure (``scaling.py``). Data flow::

    acquire() --free slot--> Instance (in_flight += 1) --> caller POSTs --> release()
        |  none free: queue a future, _rebalance() may start instances
        '--> handed an instance when one frees or becomes ready (FIFO, no polling)

``_rebalance`` runs on every queued call, every instance exit and every tick of a
ticker (a quarter of the idle period); it asks ``plan_scale`` what to start and stop.
Starts are throttled by exponential backoff after failures; after ``max_failed_starts``
consecutive failed starts the function is *failing*: queued and new calls fail fast with
the reason while a start is still retried at the backoff's pace.

Everything runs on one event loop and mutates state only between awaits, so no locks.
At ~330 lines this is the package's largest module on purpose: routing, scaling and
instance lives share the same few fields, and splitting them would spread one state
machine over several files. Its decisions live in ``scaling.py`` and ``waiters.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from flowapp.functions.build import BuildError
from flowapp.functions.errors import FunctionUnavailable
from flowapp.functions.instance import Instance, InstanceStartError, free_port
from flowapp.functions.launch import UNCONFINED, Launcher, prepare
from flowapp.functions.logs import LogStore
from flowapp.functions.metrics import FunctionMetrics
from flowapp.functions.scaling import (
    Backoff,
    FunctionStatus,
    InstanceLoad,
    Restarts,
    function_state,
    pick_instance,
    plan_scale,
)
from flowapp.functions.spec import FunctionSpec
from flowapp.functions.waiters import Waiters, claimed
from flowapp.sandbox import Sandbox, stopped_by


@dataclass(frozen=True, slots=True)
class PoolOptions:
    app: str = "default"
    revision: str = ""
    grace_period: float = 10.0
    max_failed_starts: int = 5
    backoff: Backoff = field(default_factory=Backoff)
    pip_args: tuple[str, ...] = ()
    sandbox: Sandbox = UNCONFINED
    build_cache: Path | None = None  # the app's compiler cache, shared by its revisions


class FunctionPool:
    def __init__(
        self, spec: FunctionSpec, *, options: PoolOptions, logs: LogStore, metrics: FunctionMetrics
    ) -> None:
        self.spec = spec
        self._options = options
        self._logs = logs
        self._metrics = metrics
        self._session: aiohttp.ClientSession | None = None
        self._launcher: Launcher | None = None
        self._instances: list[Instance] = []  # live, in start order (routing packs onto the first)
        self._waiters: Waiters[Instance] = Waiters(spec.name)
        self._boots: dict[Instance, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._ids = itertools.count(1)
        self._running = False
        self._restarts = Restarts(options.backoff, options.max_failed_starts)
        self._retry: asyncio.TimerHandle | None = None
        self._ticker: asyncio.Task[None] | None = None

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self, session: aiohttp.ClientSession) -> None:
        """Build, then start ``min`` instances and wait for their first attempt."""
        self._session = session
        self._running = True
        self._metrics.known(self._options.app, self.spec.name, revision=self._options.revision)
        self._ticker = asyncio.create_task(self._tick())
        await self._prepare()
        await asyncio.gather(*self._rebalance(), return_exceptions=True)

    async def reload(self) -> None:
        """Rebuild and replace every instance (in-flight calls finish on the old ones)."""
        for instance in list(self._instances):
            self._retire(instance)
        self._restarts.reset()
        await self._prepare()
        await asyncio.gather(*self._rebalance(), return_exceptions=True)

    async def stop(self) -> None:
        self._running = False
        if self._ticker:
            self._ticker.cancel()
        if self._retry:
            self._retry.cancel()
        self._waiters.reject_all(f"the supervisor stopped {self.spec.name!r}")
        for instance in list(self._instances):
            self._retire(instance)
        if self._ticker:
            await asyncio.gather(self._ticker, return_exceptions=True)
        while self._tasks:  # terminations, and boots that were mid-start
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._metrics.set_instances(
            self._options.app, self.spec.name, 0, pool=self, revision=self._options.revision
        )

    async def _prepare(self) -> None:
        options = self._options
        try:
            self._launcher = await asyncio.to_thread(
                prepare,
                self.spec,
                app=options.app,
                grace_period=options.grace_period,
                pip_args=options.pip_args,
                sandbox=options.sandbox,
                build_cache=options.build_cache,
            )
        except BuildError as exc:
            # Retrying cannot help until the files change (reload), so fail at once.
            self._launcher = None
            self._restarts.broken(str(exc))

    # -- routing ---------------------------------------------------------------------------

    async def acquire(self) -> Instance:
        """An instance with a free slot (its ``in_flight`` already counts this call)."""
        self._check_available()
        if not self._waiters.pending:
            instance = pick_instance(self._instances, self.spec.scale.concurrency)
            if instance is not None:
                instance.in_flight += 1
                return instance
        return await self._queue()

    async def _queue(self) -> Instance:
        if not any(instance.ready for instance in self._instances):  # scaled to zero, or booting
            self._metrics.cold_start(
                self._options.app, self.spec.name, revision=self._options.revision
            )
        waiter = self._waiters.push()
        self._rebalance()
        try:
            return await self._waiters.wait(
                waiter, timeout=self.spec.startup_timeout, reason=self._expiry_reason
            )
        except asyncio.CancelledError:
            # Handed an instance in the same tick the caller gave up: give the slot back.
            if (instance := claimed(waiter)) is not None:
                self.release(instance, ok=False)
            raise

    def release(self, instance: Instance, *, ok: bool, broken: bool = False) -> None:
        """The call on ``instance`` is over; ``ok``: it produced a reply; ``broken``: the
        connection failed, so route nothing more to it until it proves healthy."""
        instance.in_flight -= 1
        instance.last_active = asyncio.get_running_loop().time()
        if ok:
            self._restarts.replied()
        if broken and instance.state == "ready":
            instance.state = "checking"
            self._spawn(self._recheck(instance))
        self._hand_off(instance)

    async def _recheck(self, instance: Instance) -> None:
        # Usually the process is dying and _watch will count the crash; the exit is only
        # noticed a moment after the connection drops, and no call must land there meanwhile.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(instance.wait()), timeout=1.0)
            return
        session = self._session
        if instance.state == "checking" and session is not None and await instance.healthy(session):
            instance.state = "ready"
            self._hand_off(instance)
        elif instance.state == "checking":
            await instance.terminate(grace=0)  # _watch reports it as a crash

    def _hand_off(self, instance: Instance) -> None:
        concurrency = self.spec.scale.concurrency
        while instance.ready and instance.in_flight < concurrency:
            waiter = self._waiters.pop()
            if waiter is None:
                return
            instance.in_flight += 1
            waiter.set_result(instance)

    def _check_available(self) -> None:
        if not self._running:
            raise FunctionUnavailable(self.spec.name, "the supervisor is not running it")
        if self._restarts.failing is not None:
            raise FunctionUnavailable(self.spec.name, f"failing: {self._restarts.failing}")

    def _expiry_reason(self) -> str:
        reason = f"no instance could take the call within {self.spec.startup_timeout:g}s"
        last = self._restarts.last_error
        return reason + (f"; last error: {last}" if last else "")

    # -- scaling ---------------------------------------------------------------------------

    def _rebalance(self) -> list[asyncio.Task[None]]:
        """Start and stop instances as ``plan_scale`` says; returns the started boots."""
        launcher, session = self._launcher, self._session
        if not self._running or launcher is None or session is None:
            return []
        loop = asyncio.get_running_loop()
        now = loop.time()
        plan = plan_scale(
            self.spec.scale,
            [InstanceLoad(i.id, i.ready, i.in_flight, i.last_active) for i in self._instances],
            waiting=self._waiters.pending,
            now=now,
            idle_period=self.spec.idle_period,
            floor=max(self.spec.scale.min, 1 if self._restarts.failing else 0),
        )
        for instance in [i for i in self._instances if i.id in plan.stop]:
            self._retire(instance)
        if plan.start and not self._restarts.may_start(now):
            if self._retry is None:  # backing off: come back when the delay is over
                self._retry = loop.call_at(self._restarts.next_start_at, self._retry_now)
            return []
        return [self._start_instance(launcher, session) for _ in range(plan.start)]

    def _retry_now(self) -> None:
        self._retry = None
        self._rebalance()

    async def _tick(self) -> None:
        interval = min(5.0, max(0.05, self.spec.idle_period / 4))
        while True:
            await asyncio.sleep(interval)
            self._rebalance()

    def _start_instance(
        self, launcher: Launcher, session: aiohttp.ClientSession
    ) -> asyncio.Task[None]:
        instance = Instance(
            id=f"{self.spec.name}-{next(self._ids)}",
            function=self.spec.name,
            port=free_port(),
            logs=self._logs,
        )
        self._instances.append(instance)
        self._count_instances()
        boot = self._spawn(self._boot(instance, launcher, session))
        self._boots[instance] = boot
        return boot

    def _retire(self, instance: Instance) -> None:
        """Take ``instance`` out of routing and stop it gracefully in the background."""
        starting = instance.state == "starting"
        instance.state = "stopping"
        if instance in self._instances:
            self._instances.remove(instance)
            self._count_instances()
        boot = self._boots.pop(instance, None)
        if starting and boot is not None:
            boot.cancel()  # the boot kills the half-started process
        else:
            self._spawn(instance.terminate(grace=self._options.grace_period))

    # -- instance lives --------------------------------------------------------------------

    async def _boot(
        self, instance: Instance, launcher: Launcher, session: aiohttp.ClientSession
    ) -> None:
        launch = launcher.launch(instance.port)
        try:
            await instance.start(launch, session=session, timeout=self.spec.startup_timeout)
        except InstanceStartError as exc:
            self._lost(instance, f"instance {instance.id} failed to start: {exc}", start=True)
            return
        except asyncio.CancelledError:
            await instance.terminate(grace=0)
            raise
        finally:
            self._boots.pop(instance, None)
        if instance.state != "starting":  # retired while starting
            await instance.terminate(grace=self._options.grace_period)
            return
        instance.state = "ready"
        instance.last_active = asyncio.get_running_loop().time()
        self._restarts.healthy()
        self._hand_off(instance)
        self._spawn(self._watch(instance))

    async def _watch(self, instance: Instance) -> None:
        code = await instance.wait()
        if instance.state == "stopping":
            return  # retired: the exit was asked for
        tail = await instance.output_tail()
        limits = self._options.sandbox.limits
        limit = stopped_by(code, tail, limits) if limits is not None else None
        why = f" (stopped by {limit})" if limit else ""
        self._lost(
            instance, f"instance {instance.id} exited with code {code}{why}{tail}", start=False
        )

    def _lost(self, instance: Instance, reason: str, *, start: bool) -> None:
        """An instance crashed or failed to start: back off, maybe fail, start again."""
        instance.state = "stopping"
        if instance in self._instances:
            self._instances.remove(instance)
            self._count_instances()
        self._metrics.restarted(self._options.app, self.spec.name, revision=self._options.revision)
        now = asyncio.get_running_loop().time()
        if self._restarts.lost(reason, start=start, now=now):
            self._waiters.reject_all(f"failing: {reason}")
        self._rebalance()

    # -- bookkeeping -----------------------------------------------------------------------

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _count_instances(self) -> None:
        options = self._options
        count = len(self._instances)
        self._metrics.set_instances(
            options.app, self.spec.name, count, pool=self, revision=options.revision
        )

    def status(self) -> FunctionStatus:
        ready = sum(i.ready for i in self._instances)
        return FunctionStatus(
            name=self.spec.name,
            state=function_state(
                running=self._running,
                failing=self._restarts.failing is not None,
                ready=ready,
                live=len(self._instances) + self._waiters.pending,
                min=self.spec.scale.min,
            ),
            instances=len(self._instances),
            ready=ready,
            in_flight=sum(i.in_flight for i in self._instances),
            queued=self._waiters.pending,
            restarts=self._restarts.count,
            last_error=self._restarts.last_error,
            urls=tuple(i.url for i in self._instances if i.ready),
        )
