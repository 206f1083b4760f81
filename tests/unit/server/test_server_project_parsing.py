"""The editor's routes read YAML that a developer pushed, which may take seconds: they
read it in a worker thread, under the documents' time budget, so the event loop (the
API, webhooks, git hosting of everyone) goes on serving meanwhile."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable

import httpx
import pytest

from flowapp.apps import project
from flowapp.dsl.source import Limits
from tests.unit.server.harness import YAML

TASK = "      - t{0}: {{set: {{a: [1, 2, 3], b: {{c: 'text'}}}}}}\n"
LARGE = """\
apiVersion: flowapp.dev/v1alpha1
kind: FlowApp
metadata: {name: big, namespace: default}
spec:
  functions:
    charge: {runtime: python, path: functions/charge}
  workflow:
    document: {dsl: '1.0.3', namespace: default, name: big, version: '1.0.0'}
    do:
      - charge: {call: charge}
""" + "".join(TASK.format(i) for i in range(250))


async def created(client: httpx.AsyncClient) -> None:
    answer = await client.post("/api/v1/apps", content=LARGE, headers=YAML)
    assert answer.status_code == 201, answer.text


async def loop_gaps(request: Callable[[], Awaitable[httpx.Response]]) -> tuple[float, float]:
    """How long ``request`` took, and the longest the event loop went without a turn."""
    ticks: list[float] = []

    async def tick() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.005)

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0.02)
    started = time.monotonic()
    answer = await request()
    took = time.monotonic() - started
    ticks.append(time.monotonic())
    ticker.cancel()
    assert answer.status_code < 300, answer.text
    gaps = [b - a for a, b in itertools.pairwise(ticks) if b > started]
    return took, max(gaps)


async def test_the_editors_routes_read_yaml_off_the_event_loop(client: httpx.AsyncClient) -> None:
    await created(client)
    routes: dict[str, Callable[[], Awaitable[httpx.Response]]] = {
        "GET workflow": lambda: client.get("/api/v1/apps/big/workflow"),
        "GET functions": lambda: client.get("/api/v1/apps/big/functions"),
        "validate in app": lambda: client.post(
            "/api/v1/validate?app=big", content=LARGE, headers=YAML
        ),
        "PUT workflow": lambda: client.put(
            "/api/v1/apps/big/workflow", content=LARGE.replace("t249", "last"), headers=YAML
        ),
        "POST functions": lambda: client.post(
            "/api/v1/apps/big/functions", json={"name": "refund", "runtime": "python"}
        ),
    }
    for route, request in routes.items():
        took, gap = await loop_gaps(request)
        print(f"{route}: {took:.2f} s, the loop's longest wait {gap:.3f} s")
        assert took > 0.2, route  # long enough for the gaps to tell
        # On the loop, it would wait the whole request; a garbage collection in the
        # parsing thread pauses it too, for a fraction.
        assert gap < took * 0.8, f"{route}: the loop waited {gap:.2f} s of {took:.2f} s"


async def test_a_manifest_past_the_time_budget_is_unusable_and_says_why(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await created(client)
    monkeypatch.setattr(project, "DOCUMENT_LIMITS", Limits(max_seconds=0.01, clock=time.monotonic))
    for answer in (
        await client.get("/api/v1/apps/big/workflow"),
        await client.get("/api/v1/apps/big/functions"),
        await client.post("/api/v1/apps/big/functions", json={"name": "x", "runtime": "python"}),
    ):
        assert answer.status_code == 422, answer.text
        assert "took more than 0.01 s to read" in answer.json()["detail"]
