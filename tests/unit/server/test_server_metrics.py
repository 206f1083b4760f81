"""``GET /api/v1/apps/{name}/metrics``: an app's calls and executions over a window, from
the same counters as ``/metrics``, sampled on a clock the test moves."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from flowapp.functions.metrics import FunctionMetrics
from flowapp.local.platform import LocalPlatform
from flowapp.runtime.metrics import RuntimeMetrics
from flowapp.server.app import create_app
from flowapp.server.metrics_history import MetricsHistory
from flowapp.store.memory import MemoryStore
from flowapp.store.platform import MemoryPlatformStore
from tests.unit.server.harness import YAML, make_client

SHOP = """\
document: {dsl: '1.0.3', namespace: default, name: shop, version: '1.0.0'}
do:
  - charge: {set: {ok: true}}
"""


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def metered(
    store: MemoryStore,
    platform_store: MemoryPlatformStore,
    platform: LocalPlatform,
    registry: CollectorRegistry,
    clock: Clock,
) -> FastAPI:
    history = MetricsHistory(registry, step=10, keep=600, clock=clock)
    return create_app(
        platform=platform,
        store=store,
        platform_store=platform_store,
        metrics=registry,
        metrics_history=history,
    )


async def test_figures_over_a_window(
    metered: FastAPI,
    tokens: dict[str, str],
    registry: CollectorRegistry,
    clock: Clock,
) -> None:
    functions, runtime = FunctionMetrics(registry), RuntimeMetrics(registry)
    async with make_client(metered, tokens["developer"]) as client:
        for text in (SHOP, SHOP.replace("shop", "bank")):
            assert (await client.post("/api/v1/apps", content=text, headers=YAML)).is_success
        # t=0 (the baseline) .. t=10: 8 good calls, 2 that fail slowly, 3 executions.
        for _ in range(8):
            functions.call_finished("shop", "charge", code="2xx", seconds=0.004)
        for _ in range(2):
            functions.call_finished("shop", "charge", code="5xx", seconds=0.2)
        functions.call_finished("bank", "charge", code="5xx", seconds=9.0)  # another app
        functions.set_instances("shop", "charge", 2)
        for status in ("completed", "completed", "faulted"):
            runtime.started.labels("shop", "1", "default.shop").inc()
            runtime.finished.labels("shop", "1", "default.shop", status).inc()
            runtime.duration.labels("shop", "1", "default.shop").observe(0.3)
        clock.now += 10
        # t=10 .. t=20: 10 more good calls.
        (await client.get("/api/v1/apps/shop/metrics")).raise_for_status()  # samples t=10
        for _ in range(10):
            functions.call_finished("shop", "charge", code="2xx", seconds=0.004)
        clock.now += 10
        recent = (await client.get("/api/v1/apps/shop/metrics", params={"window": 10})).json()
        whole = (await client.get("/api/v1/apps/shop/metrics", params={"window": 300})).json()

    assert recent["covered_seconds"] == 10.0
    [charge] = recent["functions"]
    assert (charge["function"], charge["requests"], charge["by_code"]) == (
        "charge",
        10,
        {"2xx": 10},
    )
    assert charge["requests_per_second"] == 1.0 and charge["error_rate"] == 0.0
    assert recent["executions"]["started"] == 0

    assert whole["covered_seconds"] == 20.0  # the server is younger than the window
    [charge] = whole["functions"]
    assert charge["requests"] == 20 and charge["by_code"] == {"2xx": 18, "5xx": 2}
    assert charge["error_rate"] == 0.1 and charge["instances"] == 2
    latency = charge["latency_seconds"]
    assert 0.0025 < latency["p50"] <= 0.005  # in the (2.5 ms, 5 ms] bucket
    assert latency["p99"] == pytest.approx(0.235)  # rank 19.8: 0.9 into (0.1 s, 0.25 s]
    assert whole["totals"]["requests"] == 20  # the bank's call is not the shop's
    executions = whole["executions"]
    assert executions["started"] == 3
    assert executions["by_status"] == {"completed": 2, "faulted": 1, "cancelled": 0}
    assert 0.25 < executions["duration_seconds"]["p50"] <= 0.5
    series = whole["totals"]["series"]
    assert [point["requests_per_second"] for point in series] == [1.0, 1.0]
    assert [point["executions"]["faulted"] for point in series] == [1, 0]
    assert [point["error_rate"] for point in charge["series"]] == [0.2, 0.0]
    assert series[-1]["at"] == whole["to"] and whole["to"].endswith("Z")
    assert whole["from"] < whole["to"] and whole["step_seconds"] == 10


async def test_without_series_and_for_an_app_without_calls(
    metered: FastAPI, tokens: dict[str, str]
) -> None:
    async with make_client(metered, tokens["viewer"]) as viewer:
        async with make_client(metered, tokens["developer"]) as developer:
            await developer.post("/api/v1/apps", content=SHOP, headers=YAML)
        quiet = await viewer.get("/api/v1/apps/shop/metrics", params={"series": "false"})
    assert quiet.status_code == 200
    body: dict[str, Any] = quiet.json()
    assert body["functions"] == [] and body["totals"]["series"] is None
    assert body["totals"]["requests"] == 0 and body["totals"]["error_rate"] == 0.0


async def test_who_may_read_which_app(
    metered: FastAPI,
    tokens: dict[str, str],
    platform_store: MemoryPlatformStore,
) -> None:
    _, bank_only = platform_store.create_token("ci", role="viewer", now=time.time(), apps=["bank"])
    async with make_client(metered, tokens["developer"]) as developer:
        await developer.post("/api/v1/apps", content=SHOP, headers=YAML)
        assert (await developer.get("/api/v1/apps/nobody/metrics")).status_code == 404
        too_long = await developer.get("/api/v1/apps/shop/metrics", params={"window": 3601})
        assert too_long.status_code == 422
    async with make_client(metered, bank_only) as limited:
        assert (await limited.get("/api/v1/apps/shop/metrics")).status_code == 403
    async with make_client(metered, None) as anonymous:
        assert (await anonymous.get("/api/v1/apps/shop/metrics")).status_code == 401


async def test_a_server_without_metrics_says_so(
    store: MemoryStore, platform_store: MemoryPlatformStore, platform: LocalPlatform, tokens: dict
) -> None:
    bare = create_app(platform=platform, store=store, platform_store=platform_store)
    async with make_client(bare, tokens["developer"]) as client:
        await client.post("/api/v1/apps", content=SHOP, headers=YAML)
        answer = await client.get("/api/v1/apps/shop/metrics")
    assert answer.status_code == 501 and "keeps no metrics" in answer.json()["detail"]


def test_samples_older_than_kept_are_dropped(registry: CollectorRegistry, clock: Clock) -> None:
    history = MetricsHistory(registry, step=10, keep=30, clock=clock)
    FunctionMetrics(registry).call_finished("shop", "charge", code="2xx", seconds=0.01)
    for _ in range(10):
        clock.now += 10
        history.sample()
    samples, now = history.window("shop", 3600)
    assert [round(now.at - sample.at) for sample in samples] == [30, 20, 10, 0]
    clock.now += 5
    history.sample()  # younger than a step: not kept
    assert len(history.window("shop", 3600)[0]) == 4
