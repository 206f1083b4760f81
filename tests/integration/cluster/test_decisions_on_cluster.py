"""A cluster replica decides in worker processes, as ``flowapp up`` does: an expression
that would run for a minute (``[range(1e8)]``) faults its execution at the decision's
time limit, and the replica's API and probes keep answering meanwhile."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
import yaml

from flowapp.apps.loader import load_app
from tests.integration.cluster.harness import ROOT, ClusterOnLoopback, copy_project
from tests.postgres import throwaway_database

pytestmark = [pytest.mark.postgres, pytest.mark.asyncio(loop_scope="module")]
EXAMPLE = ROOT / "examples" / "append-display"
BOMB = {"bomb": {"set": {"n": "${ [range(1e8)] | length }"}}}
# Far above what an answer takes while decisions run elsewhere, far below the minute the
# expression holds a process that decides it itself.
ANSWER_SECONDS = 3.0


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    with throwaway_database("cluster_decisions") as url:
        yield url


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(
    database: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ClusterOnLoopback]:
    resource = yaml.safe_load((EXAMPLE / "flowapp.yaml").read_text())
    resource["metadata"]["name"] = "bomber"
    resource["spec"]["workflow"]["document"]["name"] = "bomber"
    resource["spec"]["workflow"]["do"] = [BOMB]
    resource["spec"]["triggers"] = []
    project = copy_project(
        EXAMPLE, tmp_path_factory.mktemp("app") / "bomber", text=yaml.safe_dump(resource)
    )
    app = load_app(project)
    workdir = tmp_path_factory.mktemp("run")
    async with ClusterOnLoopback(app, db=database, workdir=workdir, replicas=1) as up:
        yield up


async def test_a_jq_bomb_faults_at_the_decision_limit_and_the_api_keeps_answering(
    cluster: ClusterOnLoopback,
) -> None:
    replica = cluster.replicas[0]
    async with replica.client(cluster.token) as api:
        started = await api.post("/api/v1/apps/bomber/executions", json={})
        assert started.status_code == 202, started.text
        execution_id = started.json()["id"]
        began = time.monotonic()
        slowest, execution = 0.0, await _get(api, execution_id)
        while execution["status"] not in ("completed", "faulted", "cancelled"):
            assert time.monotonic() - began < 60, execution
            asked = time.monotonic()
            async with httpx.AsyncClient(base_url=replica.deliveries) as probes:
                assert (await probes.get("/healthz", timeout=ANSWER_SECONDS)).is_success
            execution = await _get(api, execution_id)
            slowest = max(slowest, time.monotonic() - asked)
            await asyncio.sleep(0.2)
    assert slowest < ANSWER_SECONDS, f"the slowest answer took {slowest:.1f} s"
    error = execution["error"]
    assert execution["status"] == "faulted" and error["limit"] == "decisionTime", error


async def _get(api: httpx.AsyncClient, execution_id: str) -> dict[str, Any]:
    answer = await api.get(f"/api/v1/executions/{execution_id}", timeout=ANSWER_SECONDS)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())
