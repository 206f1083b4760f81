"""The syncer: each app's observed state, kept in the database as Kubernetes-style conditions.

    platform --observe()--> {app: Observed} --conditions_for--> [Condition]
        --set_conditions, then set_observation (a worker thread)--> platform store
        <-- the API server and the dashboard read status from there, never by probing

Every ``interval`` seconds the syncer asks the platform what it sees (``observe``: which
revision is deployed, how each function and trigger stands, whether the last deploy
failed), turns that into three conditions with the pure :func:`conditions_for` and
writes the observation and the conditions. The store keeps each condition's
``last_transition_time`` unless its status changes, so "Ready since 10:02" means what it
says even though the syncer writes the same values over and over.

Writes are skipped while nothing changed, except every ``refresh`` seconds (so
``observed_at`` shows the syncer is alive): on SQLite each write takes the database's
one write lock, which the runtime needs for its commits.

Apps that disappear from ``observe()`` (stopped, undeployed, or not yet started after a
restart) are not left showing their last, stale state: the store has no way to remove
one app's status short of deleting the app (``delete_app`` already drops it), so the
syncer reports them as not deployed (an empty observation, ``Ready`` False
``NotDeployed``). On its first round it does the same for every app in the store that
the platform does not report. A store error is logged and the write retried next round.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sized
from dataclasses import KW_ONLY, InitVar, dataclass, field, replace
from typing import Protocol

from flowapp.local.alerts.periodic import Periodic
from flowapp.store import StoreError
from flowapp.store.platform import (
    AppObservation,
    AppRecord,
    Condition,
    FunctionStatus,
    NotFound,
    TriggerStatus,
)
from flowapp.store.platform.port import StatusStore

log = logging.getLogger(__name__)

READY_FUNCTION_STATES = frozenset({"ready", "scaled-to-zero"})
MAX_ERROR_CHARS = 300  # per function or trigger: a message names the cause, not a log


class FunctionLike(Protocol):
    """What the syncer reads of ``flowapp.functions.scaling.FunctionStatus``."""

    @property
    def state(self) -> str: ...  # ready | starting | scaled-to-zero | failing | stopped

    @property
    def instances(self) -> int: ...

    @property
    def restarts(self) -> int: ...

    @property
    def last_error(self) -> str | None: ...


class TriggerLike(Protocol):
    """What the syncer reads of ``flowapp.triggers.base.TriggerStatus``."""

    @property
    def state(self) -> str: ...  # ready | connecting | stopped

    @property
    def error(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Observed:
    """One app as the target sees it now. ``revision_status`` is that of the revision
    being rolled out (building | ready | failed); ``deploy_error`` why the last deploy
    failed, while an older revision may still serve."""

    deployed_revision: str | None = None
    revision_status: str | None = None
    functions: Mapping[str, FunctionLike] = field(default_factory=dict)
    triggers: Mapping[str, TriggerLike] = field(default_factory=dict)
    deploy_error: str | None = None


Observe = Callable[[], Mapping[str, Observed]]


class SyncedStore(StatusStore, Protocol):
    """What the syncer writes (each app's status) and reads (which apps exist)."""

    def list_apps(self) -> list[AppRecord]: ...


# --- conditions (pure) ------------------------------------------------------------------
def conditions_for(observed: Observed) -> list[Condition]:
    """``FunctionsReady``, ``TriggersReady`` and ``Ready`` (which sums up the other two)."""
    revision = observed.deployed_revision
    parts = [
        replace(functions_condition(observed.functions), observed_revision=revision),
        replace(triggers_condition(observed.triggers), observed_revision=revision),
    ]
    return [*parts, replace(ready_condition(observed, parts), observed_revision=revision)]


def functions_condition(functions: Mapping[str, FunctionLike]) -> Condition:
    if not functions:
        return Condition("FunctionsReady", "True", "NoFunctions", "the app has no functions")
    items = sorted(functions.items())
    failing = [(n, f) for n, f in items if str(f.state) == "failing"]
    if failing:
        causes = (f"{n} is failing: {_error(f.last_error)}" for n, f in failing)
        return Condition("FunctionsReady", "False", "FunctionFailing", "; ".join(causes))
    stopped = [n for n, f in items if str(f.state) == "stopped"]
    if stopped:
        return Condition("FunctionsReady", "False", "FunctionStopped", _stopped(stopped))
    waiting = [(n, f) for n, f in items if str(f.state) not in READY_FUNCTION_STATES]
    if waiting:
        message = "waiting for " + ", ".join(_starting(n, f) for n, f in waiting)
        return Condition("FunctionsReady", "False", "FunctionsStarting", message)
    return Condition("FunctionsReady", "True", "FunctionsReady", _count(items, "function", "ready"))


def triggers_condition(triggers: Mapping[str, TriggerLike]) -> Condition:
    if not triggers:
        return Condition("TriggersReady", "True", "NoTriggers", "the app has no triggers")
    items = sorted(triggers.items())
    down = [(n, t) for n, t in items if str(t.state) != "ready"]
    if not down:
        return Condition(
            "TriggersReady", "True", "TriggersConnected", _count(items, "trigger", "connected")
        )
    connecting = any(str(t.state) != "stopped" for _, t in down)
    reason = "TriggerConnecting" if connecting else "TriggerStopped"
    message = "; ".join(_trigger_down(n, t) for n, t in down)
    return Condition("TriggersReady", "False", reason, message)


def ready_condition(observed: Observed, parts: Iterable[Condition]) -> Condition:
    """False for the first cause found, in order: a failed deploy, nothing deployed, then
    the first of ``parts`` that is not True; True only when all of that is fine."""
    revision = observed.deployed_revision
    if observed.deploy_error or observed.revision_status == "failed":
        message = observed.deploy_error or f"revision {revision or '(new)'} failed"
        return Condition("Ready", "False", "DeployFailed", _clip(message))
    if revision is None:
        building = " (a revision is building)" if observed.revision_status == "building" else ""
        return Condition("Ready", "False", "NotDeployed", f"no revision is deployed{building}")
    for part in parts:
        if part.status != "True":
            return Condition("Ready", "False", part.reason, part.message)
    return Condition("Ready", "True", "Deployed", f"revision {revision} is deployed and ready")


def observation_of(app: str, observed: Observed, now: float) -> AppObservation:
    """The store's plain-JSON form of what the target reported."""
    functions = {
        name: FunctionStatus(
            state=str(f.state),
            instances=int(f.instances),
            restarts=int(f.restarts),
            last_error=f.last_error,
        )
        for name, f in observed.functions.items()
    }
    triggers = {
        name: TriggerStatus(state=str(t.state), last_error=t.error)
        for name, t in observed.triggers.items()
    }
    return AppObservation(app, observed.deployed_revision, functions, triggers, observed_at=now)


def _clip(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _error(error: str | None) -> str:
    return _clip(error) if error else "no error reported"


def _stopped(names: list[str]) -> str:
    return ", ".join(names) + (" is stopped" if len(names) == 1 else " are stopped")


def _starting(name: str, function: FunctionLike) -> str:
    if function.last_error:
        return f"{name} to start (last error: {_clip(function.last_error)})"
    return f"{name} to start"


def _trigger_down(name: str, trigger: TriggerLike) -> str:
    text = f"{name} is {trigger.state}"
    return f"{text}: {_clip(trigger.error)}" if trigger.error else text


def _count(items: Sized, noun: str, adjective: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'} {adjective}"


# --- the loop -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Written:
    """What was last written for an app (observation without its time, conditions)."""

    observation: AppObservation
    conditions: tuple[Condition, ...]
    at: float


@dataclass(eq=False)
class Syncer:
    """Writes each app's observation and conditions every ``interval`` seconds.

    ``observe`` runs on the event loop and must not block (it reads in-memory status).
    Store calls run in a worker thread. ``refresh``: the longest time an unchanged app
    goes without a write (it bumps ``observed_at``).
    """

    store: SyncedStore
    observe: Observe
    _: KW_ONLY
    interval: InitVar[float] = 1.0
    clock: Callable[[], float] = time.time
    refresh: float = 30.0
    _written: dict[str, _Written] = field(default_factory=dict, init=False)
    # The apps to mark not deployed if they go missing, and whether the apps of the
    # store that were never observed have been marked once.
    _seen: set[str] = field(default_factory=set, init=False)
    _swept: bool = field(default=False, init=False)

    def __post_init__(self, interval: float) -> None:
        self._periodic = Periodic("syncer", self.sync_once, interval)

    async def start(self) -> None:
        await self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()

    async def sync_once(self) -> None:
        """One round: observe, then write what changed (also what the loop runs)."""
        observed = dict(self.observe())
        now = self.clock()
        await asyncio.to_thread(self._write_round, observed, now)

    def _write_round(self, observed: dict[str, Observed], now: float) -> None:
        for app, seen in sorted(observed.items()):
            self._sync_app(app, seen, now)
        gone = self._seen - observed.keys()
        if not self._swept:
            gone |= self._unobserved_in_store(observed)
        failed = {app for app in sorted(gone) if not self._sync_app(app, Observed(), now)}
        # An app whose "not deployed" write failed stays in _seen, to be retried.
        self._seen = set(observed) | failed

    def _unobserved_in_store(self, observed: dict[str, Observed]) -> set[str]:
        try:
            names = {app.name for app in self.store.list_apps()}
        except StoreError as exc:
            log.warning("syncer: cannot list apps (retrying next round): %s", exc)
            return set()
        self._swept = True
        return names - observed.keys()

    def _sync_app(self, app: str, observed: Observed, now: float) -> bool:
        """Write the app's status if it changed or is due a refresh; False on a store
        error (a missing app is not one: it was deleted, or is not registered yet)."""
        written = _Written(
            replace(observation_of(app, observed, now), observed_at=0.0),
            tuple(conditions_for(observed)),
            now,
        )
        if self._unchanged(app, written):
            return True
        try:
            # Two writes, so a reader can come in between: conditions first, so that an
            # observation's ``observed_at`` vouches for conditions at least that recent
            # (readers read the observation first: ``LocalPlatform.get_app``). The other way
            # round, a start-up observation came with the conditions written before the
            # restart, naming the revision that served then.
            self.store.set_conditions(app, written.conditions, now=now)
            self.store.set_observation(replace(written.observation, observed_at=now))
        except NotFound:
            log.debug("syncer: app %s is not in the platform store; status not kept", app)
            self._written.pop(app, None)
            return True
        except StoreError as exc:
            log.warning("syncer: cannot write the status of %s (retrying): %s", app, exc)
            return False
        self._written[app] = written
        return True

    def _unchanged(self, app: str, written: _Written) -> bool:
        last = self._written.get(app)
        return (
            last is not None
            and last.observation == written.observation
            and last.conditions == written.conditions
            and written.at - last.at < self.refresh
        )
