"""The syncer against the in-memory platform store: what it writes, when, and how it
recovers. ``sync_once`` runs one round; the clock is a list the test moves."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from flowapp.functions.scaling import FunctionStatus, State
from flowapp.local.syncer import Observed, Syncer
from flowapp.store import StoreUnavailable
from flowapp.store.platform import MemoryPlatformStore

from .alert_factories import T0, make_app


def function(state: State, last_error: str | None = None) -> FunctionStatus:
    """The supervisor's own status record, as the platform hands it over."""
    return FunctionStatus("a", state, 1, 1, 0, 0, 0, last_error)


@dataclass
class Target:
    """What the platform reports; tests change it between rounds."""

    apps: dict[str, Observed]

    def observe(self) -> Mapping[str, Observed]:
        return self.apps


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def platform() -> MemoryPlatformStore:
    store = MemoryPlatformStore()
    make_app(store, "shop")
    make_app(store, "billing")
    return store


def ready(revision: str = "shop-00001") -> Observed:
    return Observed(revision, "ready", {"a": function("ready")})


def statuses(platform: MemoryPlatformStore, app: str) -> dict[str, tuple[str, str, float]]:
    found = platform.get_conditions(app)
    return {c.type: (c.status, c.reason, c.last_transition_time) for c in found}


def syncer(platform: Any, target: Target, clock: Clock, **options: Any) -> Syncer:
    return Syncer(platform, target.observe, interval=0.01, clock=clock, **options)


async def test_a_round_writes_the_observation_and_the_conditions(
    platform: MemoryPlatformStore,
) -> None:
    clock, target = Clock(), Target({"shop": ready()})

    await syncer(platform, target, clock).sync_once()

    observation = platform.get_observation("shop")
    assert observation is not None
    assert (observation.deployed_revision, observation.observed_at) == ("shop-00001", T0)
    assert observation.functions["a"]["state"] == "ready"
    assert statuses(platform, "shop") == {
        "FunctionsReady": ("True", "FunctionsReady", T0),
        "Ready": ("True", "Deployed", T0),
        "TriggersReady": ("True", "NoTriggers", T0),
    }
    assert platform.get_conditions("shop")[0].observed_revision == "shop-00001"


async def test_transition_times_move_only_when_a_status_changes(
    platform: MemoryPlatformStore,
) -> None:
    clock, target = Clock(), Target({"shop": ready()})
    sync = syncer(platform, target, clock, refresh=0.0)
    await sync.sync_once()

    clock.now = T0 + 10  # same status, other message: the transition time stays
    target.apps["shop"] = Observed("shop-00001", "ready", {"a": function("scaled-to-zero")})
    await sync.sync_once()
    assert statuses(platform, "shop")["Ready"] == ("True", "Deployed", T0)

    clock.now = T0 + 20  # a function fails: Ready and FunctionsReady change
    target.apps["shop"] = Observed("shop-00001", "ready", {"a": function("failing", "exit 1")})
    await sync.sync_once()
    assert statuses(platform, "shop") == {
        "FunctionsReady": ("False", "FunctionFailing", T0 + 20),
        "Ready": ("False", "FunctionFailing", T0 + 20),
        "TriggersReady": ("True", "NoTriggers", T0),
    }
    [_, ready_record, _] = platform.get_conditions("shop")
    assert ready_record.message == "a is failing: exit 1"

    clock.now = T0 + 30  # it recovers
    target.apps["shop"] = ready()
    await sync.sync_once()
    assert statuses(platform, "shop")["Ready"] == ("True", "Deployed", T0 + 30)


async def test_an_unchanged_app_is_written_again_only_when_the_refresh_is_due(
    platform: MemoryPlatformStore,
) -> None:
    clock, target = Clock(), Target({"shop": ready()})
    sync = syncer(platform, target, clock, refresh=30.0)
    await sync.sync_once()

    clock.now = T0 + 29
    await sync.sync_once()
    observation = platform.get_observation("shop")
    assert observation is not None and observation.observed_at == T0

    clock.now = T0 + 30
    await sync.sync_once()
    observation = platform.get_observation("shop")
    assert observation is not None and observation.observed_at == T0 + 30


async def test_an_app_that_disappears_is_reported_not_deployed(
    platform: MemoryPlatformStore,
) -> None:
    clock, target = Clock(), Target({"shop": ready(), "billing": ready("billing-00001")})
    sync = syncer(platform, target, clock)
    await sync.sync_once()

    clock.now = T0 + 5
    del target.apps["shop"]
    await sync.sync_once()

    assert statuses(platform, "shop")["Ready"] == ("False", "NotDeployed", T0 + 5)
    observation = platform.get_observation("shop")
    assert observation is not None
    assert (observation.deployed_revision, observation.functions) == (None, {})
    assert statuses(platform, "billing")["Ready"] == ("True", "Deployed", T0)


async def test_the_first_round_marks_apps_of_the_store_the_platform_does_not_run(
    platform: MemoryPlatformStore,
) -> None:
    """After a restart, a stale ``Ready True`` of an app not running is corrected."""
    clock = Clock()
    await syncer(platform, Target({"shop": ready(), "billing": ready("b-1")}), clock).sync_once()

    clock.now = T0 + 60  # a new server process, which runs only "shop"
    await syncer(platform, Target({"shop": ready()}), clock).sync_once()

    assert statuses(platform, "billing")["Ready"] == ("False", "NotDeployed", T0 + 60)
    assert statuses(platform, "shop")["Ready"] == ("True", "Deployed", T0)


async def test_deleted_and_unknown_apps_are_skipped(platform: MemoryPlatformStore) -> None:
    clock, target = Clock(), Target({"shop": ready(), "ghost": ready("ghost-1")})
    sync = syncer(platform, target, clock)
    await sync.sync_once()  # ghost is not in the store: nothing written, no error

    platform.delete_app("shop", now=T0 + 1)
    del target.apps["shop"]
    await sync.sync_once()

    assert platform.get_conditions("ghost") == [] and platform.get_conditions("shop") == []


class ReaderBetweenWrites(MemoryPlatformStore):
    """Reads the app as the API does (observation, then conditions) after each write of the
    syncer, as a request served between its two writes would."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[float, str | None, str]] = []

    def _read_as_the_api(self, app: str) -> None:
        observation = self.get_observation(app)
        ready = {c.type: c for c in self.get_conditions(app)}.get("Ready")
        if observation is not None and ready is not None:
            self.seen.append(
                (observation.observed_at, observation.deployed_revision, ready.message)
            )

    def set_observation(self, observation: Any) -> None:
        super().set_observation(observation)
        self._read_as_the_api(observation.app)

    def set_conditions(self, app: str, conditions: Any, *, now: float) -> Any:
        written = super().set_conditions(app, conditions, now=now)
        self._read_as_the_api(app)
        return written


async def test_a_reader_never_sees_a_new_observation_with_older_conditions() -> None:
    # After a restart the API served the new start's observation with the conditions
    # written before the restart ("revision shop-00001 is deployed" beside shop-00002).
    platform = ReaderBetweenWrites()
    make_app(platform, "shop")
    clock, target = Clock(), Target({"shop": ready("shop-00001")})
    await syncer(platform, target, clock).sync_once()

    clock.now += 5  # the platform restarted: a new syncer, another revision serves
    target.apps["shop"] = ready("shop-00002")
    await syncer(platform, target, clock).sync_once()

    # Conditions newer than the observation are fine (the next write brings it along).
    stale = [seen for seen in platform.seen if seen[1] == "shop-00002" and "00001" in seen[2]]
    assert stale == []
    assert platform.seen[-1][1:] == ("shop-00002", "revision shop-00002 is deployed and ready")


class FlakyStore(MemoryPlatformStore):
    """Fails the next ``failures`` writes, as a locked or unreachable database would."""

    failures = 0

    def set_conditions(self, app: str, conditions: Any, *, now: float) -> Any:
        if self.failures:
            self.failures -= 1
            raise StoreUnavailable("database is locked")
        return super().set_conditions(app, conditions, now=now)


async def test_a_store_error_is_retried_next_round(caplog: pytest.LogCaptureFixture) -> None:
    platform = FlakyStore()
    make_app(platform, "shop")
    make_app(platform, "billing")
    clock, target = Clock(), Target({"shop": ready(), "billing": ready("b-1")})
    sync = syncer(platform, target, clock)
    platform.failures = 1  # the first app written (billing) fails, shop is written

    await sync.sync_once()
    assert platform.get_conditions("billing") == []
    assert statuses(platform, "shop")["Ready"][0] == "True"
    assert "database is locked" in caplog.text

    await sync.sync_once()
    assert statuses(platform, "billing")["Ready"] == ("True", "Deployed", T0)


async def test_a_failed_not_deployed_write_is_retried() -> None:
    flaky = FlakyStore()
    make_app(flaky, "shop")
    clock, target = Clock(), Target({"shop": ready()})
    sync = syncer(flaky, target, clock)
    await sync.sync_once()

    target.apps.clear()
    flaky.failures = 1
    await sync.sync_once()
    assert statuses(flaky, "shop")["Ready"][0] == "True"

    await sync.sync_once()
    assert statuses(flaky, "shop")["Ready"][:2] == ("False", "NotDeployed")


async def test_the_loop_keeps_the_status_current_and_survives_errors(
    platform: MemoryPlatformStore,
) -> None:
    calls = 0

    def observe() -> Mapping[str, Observed]:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("the platform hiccuped")
        return {"shop": ready() if calls < 4 else Observed("shop-00002", "ready")}

    sync = Syncer(platform, observe, interval=0.01)
    await sync.start()
    try:
        for _ in range(500):
            observation = platform.get_observation("shop")
            if observation is not None and observation.deployed_revision == "shop-00002":
                break
            await asyncio.sleep(0.01)
    finally:
        await sync.stop()
    assert calls >= 4
    assert platform.get_conditions("shop")[1].observed_revision == "shop-00002"
