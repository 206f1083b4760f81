"""The cluster engine's pure pieces and its platform, with in-memory fakes (no servers)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from flowapp.apps.loader import load_app
from flowapp.cluster.app import ClusterApp, SettingsError, function_urls, revision_of
from flowapp.cluster.database import in_schema, schema_name
from flowapp.cluster.elected import STANDBY, ElectedTrigger
from flowapp.cluster.leader import libpq_url, lock_key
from flowapp.cluster.listeners import ListenerDelivery
from flowapp.cluster.managed import ManagedByCluster
from flowapp.cluster.platform import ClusterPlatform
from flowapp.cluster.split import parse_split
from flowapp.cluster.triggers import engine_run
from flowapp.runtime.runtime import Runtime
from flowapp.server import platform as p
from flowapp.store.memory import MemoryStore
from flowapp.triggers.base import TriggerState, TriggerStatus

ROOT = Path(__file__).resolve().parents[3]
APPEND_DISPLAY = ROOT / "examples" / "append-display"


def test_each_app_gets_its_own_schema_within_postgresql_limits() -> None:
    assert schema_name("append-display") == "flowapp_append_display"
    long = "a" * 63
    assert len(schema_name(long)) == 63
    assert schema_name(long) != schema_name("a" * 62 + "b")


def test_the_schema_is_named_in_the_connections_search_path() -> None:
    url = in_schema("postgresql://u:p%40ss@db:5432/flowapp?sslmode=require", "flowapp_shop")
    parsed = make_url(url)
    assert parsed.query["options"] == "-csearch_path=flowapp_shop"
    assert parsed.query["sslmode"] == "require"
    assert parsed.password == "p@ss"
    kept = in_schema("postgresql://db/flowapp?options=-cstatement_timeout%3D5000", "s")
    assert make_url(kept).query["options"] == "-cstatement_timeout=5000 -csearch_path=s"


def test_advisory_lock_keys_are_stable_signed_64_bit() -> None:
    key = lock_key("flowapp_shop/trigger/shop/readings")
    assert key == lock_key("flowapp_shop/trigger/shop/readings")
    assert -(2**63) <= key < 2**63
    assert key != lock_key("flowapp_shop/trigger/shop/other")
    assert libpq_url("postgresql+psycopg://u@h/db").startswith("postgresql://u@h/db")


def test_function_urls_come_from_their_variables_and_every_function_needs_one() -> None:
    app = load_app(APPEND_DISPLAY)
    environ = {
        "FLOWAPP_FUNCTION_URL_APPEND": "http://a.svc",
        "FLOWAPP_FUNCTION_URL_DISPLAY": "http://d.svc",
    }
    assert function_urls(app, environ, {}) == {"append": "http://a.svc", "display": "http://d.svc"}
    given = function_urls(app, {"FLOWAPP_FUNCTION_URL_APPEND": "http://a"}, {"display": "http://x"})
    assert given == {"append": "http://a", "display": "http://x"}
    with pytest.raises(SettingsError, match="FLOWAPP_FUNCTION_URL_DISPLAY"):
        function_urls(app, {"FLOWAPP_FUNCTION_URL_APPEND": "http://a"}, {})
    with pytest.raises(SettingsError, match="no function"):
        function_urls(app, environ, {"nope": "http://n"})


def test_the_engine_runs_its_triggers_but_the_knative_sources_and_its_schedule() -> None:
    app = load_app(APPEND_DISPLAY)
    assert [t.name for t in engine_run(app, {"nightly"})] == ["orders", "api"]
    assert [t.name for t in engine_run(app, set())] == ["orders", "nightly", "api"]


class FakeLease:
    def __init__(self, grants: list[bool]) -> None:
        self.grants = grants
        self.held = False
        self.released = 0

    async def acquire(self) -> bool:
        self.held = self.grants.pop(0) if self.grants else self.held
        return self.held

    async def still_held(self) -> bool:
        return self.held

    async def release(self) -> None:
        self.released += 1
        self.held = False


class FakeTrigger:
    def __init__(self) -> None:
        self.running = False

    @property
    def name(self) -> str:
        return "readings"

    async def start(self, sink: Any) -> None:
        self.running = True

    async def stop(self, *, drain_timeout: float = 30.0) -> None:
        self.running = False

    def status(self) -> TriggerStatus:
        return TriggerStatus(TriggerState.READY if self.running else TriggerState.STOPPED)


async def wait_until(check: Any) -> None:
    for _ in range(200):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("not reached")


async def test_an_elected_trigger_runs_only_while_its_lease_is_held() -> None:
    lease = FakeLease([False, False, True])
    made: list[FakeTrigger] = []

    def make() -> FakeTrigger:
        made.append(FakeTrigger())
        return made[-1]

    elected = ElectedTrigger("readings", make, lease, interval=0.01)
    await elected.start(lambda event: asyncio.sleep(0))
    assert elected.status() == TriggerStatus(TriggerState.STOPPED, STANDBY)
    await wait_until(lambda: elected.leading)
    assert made[0].running and elected.status().ready
    lease.held = False  # the database session went away
    await wait_until(lambda: not elected.leading)
    assert not made[0].running
    assert elected.status() == TriggerStatus(TriggerState.STOPPED, STANDBY)
    await elected.stop()
    assert lease.released >= 1


@pytest.fixture
async def platform() -> AsyncIterator[ClusterPlatform]:
    app = load_app(APPEND_DISPLAY)
    runtime = Runtime(MemoryStore())
    workflow = runtime.registry.add(
        app.workflow,
        app_functions=frozenset(app.functions),
        app=app.name,
        revision=revision_of(app),
    )
    await runtime.start()
    yield ClusterPlatform(
        ClusterApp(app, workflow, {"append": "http://a", "display": "http://d"}), runtime
    )
    await runtime.stop()


async def test_the_app_cannot_be_changed_through_the_api(platform: ClusterPlatform) -> None:
    for attempt in (
        platform.deploy("append-display"),
        platform.update_app("append-display", "x"),
        platform.delete_app("append-display"),
        platform.set_traffic("append-display", []),
        platform.upload_source("append-display", b""),
        platform.create_app("x"),
    ):
        with pytest.raises(ManagedByCluster) as refused:
            await attempt
        assert refused.value.status == 409
    with pytest.raises(p.NotFound):
        await platform.get_app("other")


async def test_the_app_view_names_its_revision_and_function_urls(platform: ClusterPlatform) -> None:
    view = await platform.get_app("append-display")
    assert view.deployed_revision == revision_of(platform.app.flowapp)
    assert view.traffic == [(view.deployed_revision, 100)]
    assert view.observation is not None
    assert view.observation["functions"]["append"] == {"state": "remote", "url": "http://a"}


async def test_validation_reports_problems_with_their_pointers(platform: ClusterPlatform) -> None:
    text = (APPEND_DISPLAY / "flowapp.yaml").read_text().replace("call: display", "call: nowhere")
    problems = await platform.validate_app(text)
    assert any("/do/1/display" in problem.pointer for problem in problems)
    assert await platform.validate_app((APPEND_DISPLAY / "flowapp.yaml").read_text()) == []


async def test_one_dedupe_key_is_one_execution(platform: ClusterPlatform) -> None:
    first = await platform.start_execution({"message": "m"}, "append-display/nightly/s/1")
    again = await platform.start_execution({"message": "m"}, "append-display/nightly/s/1")
    assert first[1] is False and again == (first[0], True)


async def test_an_event_nobody_listens_for_reaches_no_one(platform: ClusterPlatform) -> None:
    listeners = ListenerDelivery(platform.app.flowapp, platform.runtime, platform.start_execution)
    event = {"specversion": "1.0", "id": "e1", "source": "/s", "type": "t"}
    assert await listeners.deliver(event) == {"listeners": 0}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not JSON"),
        ("[]", "non-empty"),
        (
            '[{"revision": "v1", "percent": 60, "urls": {"append": "a", "display": "d"}}]',
            "add up to 100",
        ),
        ('[{"revision": "v1", "percent": 100, "urls": {"append": "a"}}]', "no URL for display"),
        ('[{"revision": "v1", "percent": true, "urls": {}}]', "whole number"),
    ],
)
def test_a_bad_split_is_a_settings_error(text: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        parse_split(text, ["append", "display"])


def test_new_executions_are_split_by_the_percents(platform: ClusterPlatform) -> None:
    app = platform.app
    registry = platform.runtime.registry
    flowapp = app.flowapp
    one, two = (
        registry.add(
            flowapp.workflow,
            app_functions=frozenset(flowapp.functions),
            app=flowapp.name,
            revision=r,
        )
        for r in ("append-display-v1", "append-display-v2")
    )
    app.split = [(one, 0), (two, 100)]
    assert {app.chosen().revision for _ in range(20)} == {"append-display-v2"}
    app.split = [(one, 50), (two, 50)]
    assert {app.chosen().revision for _ in range(200)} == {"append-display-v1", "append-display-v2"}
    assert app.traffic == [("append-display-v1", 50), ("append-display-v2", 50)]
