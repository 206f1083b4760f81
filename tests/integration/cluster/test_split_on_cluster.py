"""A canary on the rendered engine: ``spec.traffic`` splits whole executions between two
revisions whose functions differ, each execution calling one revision's functions only
(at the traffic tags' addresses the engine is given)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
import yaml

from flowapp.apps.loader import load_app
from tests.integration.cluster.harness import ROOT, ClusterOnLoopback, copy_project
from tests.postgres import throwaway_database

pytestmark = [pytest.mark.postgres, pytest.mark.asyncio(loop_scope="module")]
EXAMPLE = ROOT / "examples" / "append-display"
V2_APPEND = """
def handle(data, context):
    return {"message": data["message"] + data.get("suffix", "!") + " v2"}
"""
V2_DISPLAY = """
exports.handle = async (data) => ({ displayed: data.message, by: 'v2' });
"""


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    with throwaway_database("cluster_split") as url:
        yield url


def revision_two(folder: Path) -> dict[str, Path]:
    """v2's functions: another append and another display."""
    shutil.copytree(EXAMPLE / "functions", folder)
    (folder / "append" / "main.py").write_text(V2_APPEND)
    (folder / "display" / "index.js").write_text(V2_DISPLAY)
    return {"append": folder / "append", "display": folder / "display"}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(
    database: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ClusterOnLoopback]:
    resource = yaml.safe_load((EXAMPLE / "flowapp.yaml").read_text())
    resource["spec"].pop("triggers")
    resource["spec"]["revision"] = "v2"
    resource["spec"]["traffic"] = [
        {"revision": "v1", "percent": 50, "tag": "stable"},
        {"revision": "v2", "percent": 50, "tag": "canary"},
    ]
    base = tmp_path_factory.mktemp("app")
    project = copy_project(EXAMPLE, base / "append-display", text=yaml.safe_dump(resource))
    v1 = {name: project / "functions" / name for name in ("append", "display")}
    tags = {"stable": v1, "canary": revision_two(base / "v2")}
    app = load_app(project)
    workdir = tmp_path_factory.mktemp("run")
    async with ClusterOnLoopback(app, db=database, workdir=workdir, tags=tags) as up:
        yield up


async def test_each_execution_runs_on_one_revision_and_both_get_executions(
    cluster: ClusterOnLoopback,
) -> None:
    async def invoke(number: int) -> tuple[str, dict[str, object]]:
        replica = cluster.replicas[number % 2]
        async with replica.client(cluster.token) as client:
            answer = await client.post(
                "/api/v1/apps/append-display/executions",
                params={"wait": "30"},
                json={"message": f"m{number}"},
            )
            assert answer.status_code == 200, answer.text
            shown = (await client.get(f"/api/v1/executions/{answer.json()['id']}")).json()
        return str(shown["revision"]), dict(answer.json()["output"])

    results = [await invoke(number) for number in range(24)]
    seen = set()
    for number, (revision, output) in enumerate(results):
        if revision == "append-display-v1":
            assert output == {"displayed": f"m{number}!"}
        else:
            assert revision == "append-display-v2"
            assert output == {"displayed": f"m{number}! v2", "by": "v2"}
        seen.add(revision)
    assert seen == {"append-display-v1", "append-display-v2"}


async def test_the_api_shows_the_split(cluster: ClusterOnLoopback) -> None:
    async with cluster.replicas[0].client(cluster.token) as client:
        traffic = (await client.get("/api/v1/apps/append-display/traffic")).json()
        refused = await client.put(
            "/api/v1/apps/append-display/traffic",
            json=[{"revision": "append-display-v2", "percent": 100}],
        )
    assert traffic == [
        {"revision": "append-display-v1", "percent": 50},
        {"revision": "append-display-v2", "percent": 50},
    ]
    assert refused.status_code == 409
