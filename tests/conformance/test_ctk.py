"""The specification's conformance kit (all 21 scenarios) and our own scenarios, run on
the real runtime with local stand-ins for the public services the kit names."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from flowapp.runtime.deciders.inprocess import InProcessDecider
from flowapp.runtime.deciders.pool import IsolatedDecider, PoolSettings
from flowapp.store.memory import MemoryStore
from tests.conformance.gherkin import Scenario, parse_features
from tests.conformance.standins import build_app
from tests.conformance.steps import World, run_scenario

HERE = Path(__file__).parent
KIT = sorted((HERE.parent / "fixtures" / "spec" / "ctk").rglob("*.feature"))
OURS = sorted((HERE / "features").glob("*.feature"))
KIT_SCENARIOS = parse_features(KIT)
OUR_SCENARIOS = parse_features(OURS)


def test_the_kit_has_all_21_scenarios():
    assert len(KIT) == 11
    assert len(KIT_SCENARIOS) == 21


@pytest.fixture(scope="module")
def standins() -> Iterator[str]:
    """The stand-in services, served by aiohttp on a thread of their own."""
    import asyncio

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(build_app())
    ready = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    ready.wait(10)
    yield f"http://127.0.0.1:{port}"
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


@pytest.mark.parametrize("scenario", KIT_SCENARIOS, ids=lambda s: s.id)
async def test_conformance_kit(scenario: Scenario, standins: str) -> None:
    await run_scenario(World(standins, MemoryStore()), scenario)


@pytest.mark.parametrize("scenario", OUR_SCENARIOS, ids=lambda s: s.id)
async def test_our_scenarios(scenario: Scenario, standins: str) -> None:
    await run_scenario(World(standins, MemoryStore()), scenario)


@pytest.mark.parametrize("scenario", KIT_SCENARIOS + OUR_SCENARIOS, ids=lambda s: s.id)
async def test_every_scenario_with_one_step_per_turn(scenario: Scenario, standins: str) -> None:
    """Each turn cut after one step, saved and continued: the same outcome."""
    world = World(standins, MemoryStore(), decider=InProcessDecider(step_budget=1))
    await run_scenario(world, scenario)


class _Lent:
    """A decider lent to one runtime: the test starts and closes it, not the runtime."""

    def __init__(self, decider: IsolatedDecider) -> None:
        self.decider = decider

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def decide(self, *args: Any) -> Any:
        return await self.decider.decide(*args)


async def test_every_scenario_decided_in_a_worker_process(standins: str) -> None:
    """The state, signals and decisions through a decider process: the same outcomes (one
    worker for all the scenarios, since starting one takes about a second)."""
    decider = IsolatedDecider(PoolSettings(workers=1, standby=False, step_budget=3))
    await decider.start()
    try:
        for scenario in KIT_SCENARIOS + OUR_SCENARIOS:
            try:
                await run_scenario(World(standins, MemoryStore(), decider=_Lent(decider)), scenario)
            except AssertionError as failed:
                raise AssertionError(f"{scenario.id}: {failed}") from failed
    finally:
        await decider.close()
