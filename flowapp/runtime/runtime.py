"""The runtime: the shell around the pure engine, composed of named parts.

    signal -> decide (in memory) -> commit state + outbox (one transaction) -> dispatch

``Runtime`` is a facade: it builds its parts and hands each only what it uses.

- ``executions.py``: the executions this process holds, and who waits for their outcome;
- ``pump.py``: decides every waiting signal of an execution, commits one checkpoint
  through the group committer (``committer.py``), then dispatches the commands;
- ``dispatch.py``: carries out committed commands (calls, timers, subscriptions);
- ``launcher.py``: starts executions (at once, submitted, as children, rerun);
- ``control.py``: cancel, suspend, resume, retry;
- ``event_routing.py``: events to the executions listening for them;
- ``recovery.py``: takes executions over after a crash, or from a dead process;
- background loops, each started and stopped on its own: ``leases.py`` (renewing the
  leases of what we hold), ``outbox_relay.py`` (fire-and-forget commands after commit),
  ``signal_polling.py`` (signals sent through the store), ``pickup.py`` (submitted
  executions, when several processes share the store).

Deciding is delegated to a decider (``deciders``): in process by default, in worker
processes for a shared server. A turn has a step budget, and every turn is held to the
execution's limits (``turns.py``).

Hooks are given at construction: ``metrics``, ``tracing``, ``lifecycle`` (the lifecycle
CloudEvents of every decision), ``on_finished`` (each execution that ends here), and
``secrets`` (each app's secrets; without it every workflow sees ``env.secrets``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar, overload

from flowapp.engine.scope import Environment
from flowapp.runtime.committer import GroupCommitter
from flowapp.runtime.control import Control
from flowapp.runtime.deciders.base import Decider
from flowapp.runtime.deciders.inprocess import InProcessDecider
from flowapp.runtime.dispatch import Dispatcher, Effects
from flowapp.runtime.environments import AppSecrets, Environments
from flowapp.runtime.event_routing import EventRouting
from flowapp.runtime.executions import FinishedHook, LiveExecutions
from flowapp.runtime.journal import DecisionJournal
from flowapp.runtime.launcher import Launcher
from flowapp.runtime.leases import LeaseKeeper
from flowapp.runtime.limits import Limits
from flowapp.runtime.metrics import RuntimeMetrics
from flowapp.runtime.outbox_relay import OutboxRelay
from flowapp.runtime.outcome import Outcome, UnknownExecution
from flowapp.runtime.pickup import Pickup
from flowapp.runtime.pump import LifecycleHook, Pump
from flowapp.runtime.recovery import Recovery
from flowapp.runtime.registry import WorkflowRegistry
from flowapp.runtime.routing import EventRouter
from flowapp.runtime.signal_polling import SignalPoller
from flowapp.runtime.timers import Timers
from flowapp.runtime.turns import Turns
from flowapp.store.port import Store

if TYPE_CHECKING:
    from flowapp.runtime.tracing import Tracing

T = TypeVar("T")


class _BuiltWith(Generic[T]):
    """What a runtime was built with: read-only afterwards, for its parts hold their own
    references (a late assignment would silently change nothing)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, runtime: None, owner: type) -> _BuiltWith[T]: ...
    @overload
    def __get__(self, runtime: Runtime, owner: type) -> T: ...
    def __get__(self, runtime: Runtime | None, owner: type) -> T | _BuiltWith[T]:
        if runtime is None:
            return self
        value: T = getattr(runtime._fixed, self._name)
        return value

    def __set__(self, runtime: Runtime, value: T) -> None:
        raise AttributeError(f"Runtime.{self._name} is fixed when the runtime is built")


class Runtime:
    store = _BuiltWith[Store]()
    registry = _BuiltWith[WorkflowRegistry]()
    effects = _BuiltWith[Effects]()
    owner = _BuiltWith[str]()
    clock = _BuiltWith[Callable[[], float]]()
    lease_seconds = _BuiltWith[float]()
    poll_interval = _BuiltWith[float]()
    pickup_batch = _BuiltWith[int]()
    limits = _BuiltWith[Limits]()
    decider = _BuiltWith[Decider]()
    journal = _BuiltWith[DecisionJournal | None]()
    metrics = _BuiltWith[RuntimeMetrics | None]()
    tracing = _BuiltWith["Tracing | None"]()
    lifecycle = _BuiltWith[LifecycleHook | None]()

    def __init__(
        self,
        store: Store,
        *,
        registry: WorkflowRegistry | None = None,
        effects: Effects | None = None,
        env: Environment | None = None,
        owner: str = "local",
        clock: Callable[[], float] = time.time,
        lease_seconds: float = 30.0,
        poll_interval: float = 0.2,
        pickup_batch: int = 64,
        limits: Limits | None = None,
        inline_commits: bool | None = None,
        decider: Decider | None = None,
        journal: DecisionJournal | None = None,
        metrics: RuntimeMetrics | None = None,
        tracing: Tracing | None = None,
        lifecycle: LifecycleHook | None = None,
        on_finished: Iterable[FinishedHook] = (),
        secrets: AppSecrets | None = None,
    ) -> None:
        registry = registry or WorkflowRegistry(store)
        effects = effects or Effects()
        limits = limits or Limits()
        decider = decider or InProcessDecider()
        # What every part was built with, fixed from now on (read-only below).
        self._fixed = _Fixed(
            store=store,
            registry=registry,
            effects=effects,
            owner=owner,
            clock=clock,
            lease_seconds=lease_seconds,
            poll_interval=poll_interval,
            pickup_batch=pickup_batch,
            limits=limits,
            decider=decider,
            journal=journal,
            metrics=metrics,
            tracing=tracing,
            lifecycle=lifecycle,
        )
        if inline_commits is None:  # a local file or memory: commit on the loop's thread
            inline_commits = bool(getattr(store, "writes_inline", False))
        on_commit = metrics.committed if metrics is not None else None
        self.committer = GroupCommitter(store, inline=inline_commits, on_commit=on_commit)
        self.timers = Timers(clock, on_fire=metrics.timer_fired if metrics is not None else None)
        self.router = EventRouter()
        self.environments = Environments(env or Environment(), secrets)
        self.executions = LiveExecutions(
            store,
            self.committer,
            timers=self.timers,
            router=self.router,
            clock=clock,
            poll_interval=poll_interval,
            on_finished=on_finished,
        )
        self.live = self.executions.held
        # Hooks appended here run for each execution that ends here: what is built from
        # this runtime (a platform) can only be told after it exists.
        self.on_finished = self.executions.on_finished
        outbox_due = asyncio.Event()
        self.pump = Pump(
            self.executions,
            Turns(self.decider, self.environments.env_for, journal),
            self.committer,
            timers=self.timers,
            environments=self.environments,
            owner=owner,
            clock=clock,
            wake_outbox=outbox_due.set,
            metrics=metrics,
            tracing=tracing,
            lifecycle=lifecycle,
        )
        self.launcher = Launcher(
            self.pump,
            self.executions,
            self.committer,
            registry=self.registry,
            limits=self.limits,
            owner=owner,
            clock=clock,
            lease_seconds=lease_seconds,
            tracing=tracing,
        )
        self.events = EventRouting(
            store,
            self.committer,
            router=self.router,
            held=self.live,
            deliver=self.pump.deliver,
            publish=self.effects.publish,
            clock=clock,
        )
        self.dispatcher = Dispatcher(
            self.effects,
            executions=self.executions,
            timers=self.timers,
            router=self.router,
            deliver=self.pump.deliver,
            children=self.launcher,
            publish_event=self.events.publish,
            limits=self.limits,
            tracing=tracing,
        )
        self.pump.dispatch_with(self.dispatcher)
        self.control = Control(
            store,
            self.committer,
            self.executions,
            deliver=self.pump.deliver,
            revive=self.pump.revive,
            registry=self.registry,
            environments=self.environments,
            clock=clock,
            owner=owner,
            lease_seconds=lease_seconds,
        )
        self.recovery = Recovery(
            store,
            self.committer,
            self.executions,
            dispatcher=self.dispatcher,
            deliver=self.pump.deliver,
            registry=self.registry,
            environments=self.environments,
            owner=owner,
            clock=clock,
            lease_seconds=lease_seconds,
            wake_outbox=outbox_due.set,
        )
        self.leases = LeaseKeeper(
            store,
            self.committer,
            self.executions,
            self.recovery,
            owner=owner,
            clock=clock,
            lease_seconds=lease_seconds,
            batch=pickup_batch,
            wake_outbox=outbox_due.set,
        )
        self.outbox = OutboxRelay(
            store,
            self.committer,
            self.executions,
            wakeup=outbox_due,
            carry_out=self.dispatcher.carry_out,
            registry=self.registry,
            environments=self.environments,
            owner=owner,
            metrics=metrics,
        )
        self.signals = SignalPoller(
            store,
            self.committer,
            self.executions,
            deliver=self.pump.deliver,
            adopting=self.recovery.adopting,
            owner=owner,
            poll_interval=poll_interval,
        )
        self.pickup = Pickup(
            lambda limit: self.recovery.recover(include_own=False, limit=limit),
            batch=pickup_batch,
            poll_interval=poll_interval,
        )
        if metrics is not None:
            metrics.watch(lambda: self.live.values(), lambda: len(self.timers))

        # The runtime's verbs are its parts' own methods (their signatures and docs are there).
        self.env_for = self.environments.env_for
        self.known_secrets = self.environments.known_secrets
        self.app_secrets = self.environments.app_secrets
        self.open_sealed = self.environments.open_sealed
        self.start_execution = self.launcher.start_execution
        self.submit = self.launcher.submit
        self.rerun = self.launcher.rerun
        self.run_child = self.launcher.run_child
        self.wait_for = self.executions.wait_for
        self.deliver = self.pump.deliver
        self.send = self.control.send
        self.cancel = self.control.cancel
        self.suspend = self.control.suspend
        self.resume = self.control.resume
        self.retry = self.control.retry
        self.publish_event = self.events.publish
        self.offer_event = self.events.offer
        self.route_event = self.events.route
        self.recover = self.recovery.recover
        self.recover_own = self.recovery.recover_own
        self.renew_leases = self.leases.renew

    @property
    def secrets(self) -> AppSecrets | None:
        return self.environments.secrets

    @property
    def env(self) -> Environment:
        return self.environments.env

    @property
    def shares_store(self) -> bool:
        """Other processes hold executions of this store (``start(scale_out=True)``)."""
        return self.events.shares_store

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self, *, recover: bool = True, scale_out: bool = False) -> None:
        """``recover`` takes this owner's unfinished executions back; ``scale_out`` also
        picks up submitted executions and those of processes whose lease expired."""
        await self.committer.start()
        await self.decider.start()
        if self.journal is not None:
            self.recovery.suspects = self.journal.open()
        if recover:
            # Renew from the start and on a loop of its own: adopting a large backlog can
            # take longer than a lease, and an unrenewed lease is taken over by others.
            self.leases.start()
            if scale_out:
                # Others' executions (submitted, or of a process that died) are picked up
                # a batch at a time below, shared with the other processes: a restart does
                # not take a whole backlog for itself.
                await self.recovery.recover_own()
            else:
                await self.recovery.recover()
        self.outbox.start()
        self.signals.start()
        self.events.shares_store = scale_out
        if scale_out:  # also takes over executions whose lease expired (``claim``)
            self.pickup.start()

    async def stop(self) -> None:
        for loop in (self.leases, self.outbox, self.signals, self.pickup):
            await loop.stop()
        for live in list(self.live.values()):
            for task in live.inflight.values():
                task.cancel()
        self.timers.clear()
        await self.decider.close()
        if self.journal is not None:
            self.journal.close()
        await self.committer.stop()
        await self.effects.close()
        if self.tracing is not None:
            await asyncio.to_thread(self.tracing.close)


@dataclass(frozen=True, slots=True)
class _Fixed:
    store: Store
    registry: WorkflowRegistry
    effects: Effects
    owner: str
    clock: Callable[[], float]
    lease_seconds: float
    poll_interval: float
    pickup_batch: int
    limits: Limits
    decider: Decider
    journal: DecisionJournal | None
    metrics: RuntimeMetrics | None
    tracing: Tracing | None
    lifecycle: LifecycleHook | None


__all__ = ["Outcome", "Runtime", "UnknownExecution"]
