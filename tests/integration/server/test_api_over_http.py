"""The API over real HTTP (uvicorn, SQLite): auth, the invocation and execution contracts,
body limits on a chunked upload, and NDJSON deploy streams read line by line."""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from tests.integration.server.conftest import Served

SLOW = """\
document: {dsl: '1.0.3', namespace: default, name: slow, version: '1.0.0'}
do:
  - nap: {wait: PT1S}
  - done: {set: {done: true}}
"""


def test_health_and_auth(served: Served) -> None:
    assert httpx.get(served.url + "/healthz").json() == {"status": "ok"}
    refused = httpx.get(served.url + "/api/v1/apps")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    with served.client("fa_" + "0" * 43) as stranger:
        assert stranger.get("/api/v1/apps").status_code == 401


def test_invocation_and_execution_contracts(served: Served) -> None:
    with served.client() as client:
        done = client.post("/api/v1/apps/hello/executions?wait=10", json={"name": "Ada"})
        assert done.status_code == 200
        assert done.json()["output"] == {"greeting": "Hello, Ada!"}
        accepted = client.post("/api/v1/apps/hello/executions", json={"name": "Bo"})
        assert accepted.status_code == 202
        location = accepted.headers["location"]
        execution = client.get(location).json()
        assert execution["id"] == accepted.json()["id"]
        assert [task["name"] for task in execution["tasks"]] == ["greet"]
        assert execution["started_at"].endswith("Z")
        listed = client.get("/api/v1/executions", params={"app": "hello"}).json()["items"]
        assert {item["id"] for item in listed} == {done.json()["id"], execution["id"]}


def test_a_slow_execution_is_202_then_completes(served: Served) -> None:
    with served.client() as client:
        client.post("/api/v1/apps", content=SLOW, headers={"Content-Type": "application/yaml"})
        client.post("/api/v1/apps/slow/deploys").raise_for_status()
        accepted = client.post("/api/v1/apps/slow/executions", params={"wait": "0.1"}, json={})
        assert accepted.status_code == 202
        completed = client.post("/api/v1/apps/slow/executions", params={"wait": "5"}, json={})
        assert completed.status_code == 200
        assert client.get(accepted.headers["location"]).json()["status"] == "completed"


def chunks() -> Iterator[bytes]:
    yield b'"'
    for _ in range(40):
        yield b"x" * 32 * 1024  # 1.25 MiB in all, over the 1 MiB default
    yield b'"'


def test_a_chunked_body_over_the_limit_is_413(served: Served) -> None:
    with served.client() as client:
        response = client.post("/api/v1/apps/hello/executions", content=chunks())
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


def test_a_deploy_stream_is_ndjson_line_by_line(served: Served) -> None:
    with (
        served.client() as client,
        client.stream("POST", "/api/v1/apps/hello/deploys", params={"stream": "true"}) as r,
    ):
        assert r.headers["content-type"].startswith("application/x-ndjson")
        lines = [line for line in r.iter_lines() if line]
    assert lines[0].startswith('{"progress":')
    assert lines[-1].startswith('{"deploy":')
