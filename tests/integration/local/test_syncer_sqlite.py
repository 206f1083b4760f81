"""The syncer's loop on a SQLite platform store: conditions and observations as the API
reads them, with Kubernetes transition times, written from a worker thread."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from flowapp.local.syncer import Observed, Syncer
from tests.unit.local.alert_factories import T0, make_app

from .conftest import Stores


@dataclass(frozen=True)
class Fn:
    state: str
    instances: int = 1
    restarts: int = 0
    last_error: str | None = None


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


async def test_status_follows_the_target_with_transition_times(stores: Stores) -> None:
    make_app(stores.platform, "shop")
    clock = Clock()
    seen: dict[str, Observed] = {"shop": Observed("shop-00001", "ready", {"a": Fn("starting")})}

    def observe() -> Mapping[str, Observed]:
        return seen

    syncer = Syncer(stores.platform, observe, interval=0.01, clock=clock, refresh=0.0)
    await syncer.sync_once()
    clock.now = T0 + 5
    seen["shop"] = Observed("shop-00001", "ready", {"a": Fn("ready")})
    await syncer.sync_once()
    clock.now = T0 + 9
    seen["shop"] = Observed("shop-00001", "ready", {"a": Fn("scaled-to-zero", instances=0)})
    await syncer.sync_once()

    by_type = {c.type: c for c in stores.platform.get_conditions("shop")}
    assert (by_type["Ready"].status, by_type["Ready"].reason) == ("True", "Deployed")
    assert by_type["Ready"].last_transition_time == T0 + 5  # not T0 + 9: no status change
    assert by_type["TriggersReady"].last_transition_time == T0
    observation = stores.platform.get_observation("shop")
    assert observation is not None and observation.observed_at == T0 + 9
    assert observation.functions["a"] == {
        "state": "scaled-to-zero",
        "instances": 0,
        "restarts": 0,
        "last_error": None,
    }


async def test_the_running_loop_reports_a_stopped_app(stores: Stores) -> None:
    make_app(stores.platform, "shop")
    seen: dict[str, Observed] = {"shop": Observed("shop-00001", "ready")}
    syncer = Syncer(stores.platform, lambda: seen, interval=0.02)
    await syncer.start()
    try:
        await until_ready_is(stores, "True")
        seen.clear()
        await until_ready_is(stores, "False")
    finally:
        await syncer.stop()

    ready = {c.type: c for c in stores.platform.get_conditions("shop")}["Ready"]
    assert ready.reason == "NotDeployed"


async def until_ready_is(stores: Stores, status: str) -> None:
    for _ in range(500):
        found = {c.type: c.status for c in stores.platform.get_conditions("shop")}
        if found.get("Ready") == status:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"Ready never became {status}")
