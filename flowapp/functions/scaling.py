"""Autoscaling, routing and restart decisions as pure functions of a snapshot.

The pool (``pool.py``) owns processes and the clock; it describes its instances as
:class:`InstanceLoad` values and asks :func:`plan_scale` what to start and stop,
:func:`pick_instance` where to send a call, and :class:`Backoff` how long to wait before
starting again after failures. Nothing here awaits or reads the time, so every rule is
tested without processes (``tests/unit/functions/test_scaling.py``).

The rules, Knative's on one machine:
- demand = calls in flight + calls queued; capacity needed = ceil(demand / concurrency);
- desired = needed clamped to [floor, max], where floor is ``min`` (or 1 while a failing
  function is being probed);
- start the difference at once (a burst starts several instances in parallel);
- stop only instances idle for the whole idle period, oldest-idle first, never below
  desired: the pool packs calls onto the oldest instances so that surplus ones go idle;
- count only ready instances towards that surplus: one still starting never lets a warm
  one go in its place.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeVar

from flowapp.functions.spec import ScaleSpec


class Routable(Protocol):
    @property
    def ready(self) -> bool: ...

    @property
    def in_flight(self) -> int: ...


R = TypeVar("R", bound=Routable)
State = Literal["ready", "starting", "scaled-to-zero", "failing", "stopped"]


@dataclass(frozen=True, slots=True)
class InstanceLoad:
    """An instance as the autoscaler sees it. ``last_active``: end of its last call."""

    id: str
    ready: bool
    in_flight: int
    last_active: float


@dataclass(frozen=True, slots=True)
class ScalePlan:
    start: int = 0
    stop: tuple[str, ...] = ()


def desired_instances(scale: ScaleSpec, *, demand: int, floor: int) -> int:
    needed = math.ceil(demand / scale.concurrency)
    return min(scale.max, max(floor, needed))


def plan_scale(
    scale: ScaleSpec,
    instances: Sequence[InstanceLoad],
    *,
    waiting: int,
    now: float,
    idle_period: float,
    floor: int,
) -> ScalePlan:
    """What to start and stop; ``instances`` are the live ones (starting or ready)."""
    demand = waiting + sum(i.in_flight for i in instances)
    desired = desired_instances(scale, demand=demand, floor=floor)
    if len(instances) < desired:
        return ScalePlan(start=desired - len(instances))
    # Only ready instances beyond ``desired`` are surplus: stopping a warm one while a
    # starting one stands in for it would leave the function with nothing ready to answer.
    surplus = sum(i.ready for i in instances) - desired
    if surplus <= 0:
        return ScalePlan()
    idle = sorted(
        (
            i
            for i in instances
            if i.ready and not i.in_flight and now - i.last_active >= idle_period
        ),
        key=lambda i: i.last_active,
    )
    return ScalePlan(stop=tuple(i.id for i in idle[:surplus]))


def pick_instance(instances: Sequence[R], concurrency: int) -> R | None:
    """The first ready instance (oldest first) with a free slot, or None.

    First-fit rather than least-loaded: packing calls onto the oldest instances lets the
    surplus ones stay idle long enough to be scaled down after a burst.
    """
    for instance in instances:
        if instance.ready and instance.in_flight < concurrency:
            return instance
    return None


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential delay before the next start after ``failures`` consecutive failures."""

    initial: float = 0.1
    maximum: float = 30.0

    def delay(self, failures: int) -> float:
        if failures <= 0:
            return 0.0
        exponent = min(failures - 1, 32)  # 2**32 x initial is past any sensible maximum
        return min(self.maximum, self.initial * float(2**exponent))


@dataclass(slots=True)
class Restarts:
    """Losses of instances (crashes, failed starts): backoff, and when a function is failing.

    State only, no I/O and no clock (``now`` is passed in): the pool records events and
    asks :meth:`may_start`. ``failures`` (for the backoff) resets only when a call gets a
    reply, so a function that starts, answers ``/healthz`` and dies on every call still
    backs off; ``failed_starts`` (for *failing*) resets when an instance becomes healthy.
    """

    backoff: Backoff = field(default_factory=Backoff)
    max_failed_starts: int = 5
    count: int = 0  # every instance lost, ever (the restarts metric)
    failed_starts: int = 0
    failures: int = 0
    next_start_at: float = 0.0
    failing: str | None = None
    last_error: str | None = None

    def lost(self, reason: str, *, start: bool, now: float) -> bool:
        """Record a loss; True when this loss makes the function failing."""
        self.count += 1
        self.failures += 1
        self.last_error = reason
        self.next_start_at = now + self.backoff.delay(self.failures)
        if not start:
            return False
        self.failed_starts += 1
        was_failing = self.failing is not None
        if self.failed_starts >= self.max_failed_starts:
            self.failing = reason
        return self.failing is not None and not was_failing

    def may_start(self, now: float) -> bool:
        return now >= self.next_start_at

    def healthy(self) -> None:
        self.failed_starts = 0
        self.failing = None

    def replied(self) -> None:
        self.failures = 0

    def broken(self, reason: str) -> None:
        """The function cannot be started at all (its build failed) until reset."""
        self.failing = self.last_error = reason

    def reset(self) -> None:
        self.failed_starts = self.failures = 0
        self.next_start_at = 0.0
        self.failing = None


@dataclass(frozen=True, slots=True)
class FunctionStatus:
    """What ``Supervisor.status()`` reports per function."""

    name: str
    state: State
    instances: int  # live processes, starting ones included
    ready: int
    in_flight: int
    queued: int
    restarts: int
    last_error: str | None
    urls: tuple[str, ...] = ()  # of the ready instances, e.g. to curl one while debugging


def function_state(*, running: bool, failing: bool, ready: int, live: int, min: int) -> State:
    """A function's state; ``live``: instances plus queued calls (work that is coming)."""
    if not running:
        return "stopped"
    if failing:
        return "failing"
    if ready:
        return "ready"
    return "scaled-to-zero" if not live and min == 0 else "starting"
