"""Apps created from a plain workflow through the API, and the workflow's own schedule:
``on`` (events published to the bus start executions) and ``after`` (another execution
starts that long after one completes)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.e2e.platform_process import create_and_deploy, flowapp_up

ON_EVENT = """
document: {dsl: '1.0.3', namespace: e2e, name: on-ping, version: '1.0.0'}
schedule:
  on:
    one:
      with: {type: com.example.ping}
do:
  - first: {set: {got: '${ .[0].data.n }'}}
"""

AFTER = """
document: {dsl: '1.0.3', namespace: e2e, name: again, version: '1.0.0'}
schedule:
  after: {milliseconds: 300}
do:
  - tick: {set: {tick: true}}
"""


def executions_of(api: httpx.Client, app: str, want: int, timeout: float = 20) -> list[dict]:
    deadline = time.monotonic() + timeout
    items: list[dict] = []
    while time.monotonic() < deadline:
        items = api.get("/api/v1/executions", params={"app": app}).json()["items"]
        if len(items) >= want and all(i["status"] == "completed" for i in items):
            return items
        time.sleep(0.2)
    raise AssertionError(f"{app}: {len(items)} executions, wanted {want}: {items}")


def test_schedule_on_and_after(tmp_path: Path) -> None:
    with flowapp_up(tmp_path / "data") as platform, platform.client() as api:
        broken = ON_EVENT.replace("'${ .[0].data.n }'", "'${ .[0].data.n | }'")
        refused = api.post(
            "/api/v1/apps", content=broken, headers={"content-type": "application/yaml"}
        )
        assert refused.status_code == 422
        (problem,) = refused.json()["problems"]
        assert (problem["file"], problem["line"]) == ("workflow.yaml", 8), problem
        assert problem["pointer"] == "/do/0/first/set/got"
        create_and_deploy(api, ON_EVENT, "on-ping")
        event = {
            "specversion": "1.0",
            "id": "p1",
            "source": "/e2e",
            "type": "com.example.ping",
            "data": {"n": 7},
        }
        assert api.post("/api/v1/events", json=event).status_code == 202
        other = {**event, "id": "p2", "type": "com.example.other"}
        assert api.post("/api/v1/events", json=other).status_code == 202
        (execution,) = executions_of(api, "on-ping", 1)
        shown = api.get(f"/api/v1/executions/{execution['id']}").json()
        assert shown["output"] == {"got": 7}
        assert shown["input"][0]["id"] == "p1"

        create_and_deploy(api, AFTER, "again")
        first = api.post("/api/v1/apps/again/executions?wait=10", json={})
        assert first.status_code == 200
        assert len(executions_of(api, "again", 3)) >= 3  # the first, then one every 300 ms
