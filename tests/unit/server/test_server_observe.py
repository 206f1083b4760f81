"""Logs, events (structured, batched, binary), webhooks, metrics and the OpenAPI document."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter

from tests.platforms import RunningPlatform
from tests.unit.server.harness import YAML, create_and_deploy

HOOKED = """\
apiVersion: flowapp.dev/v1alpha1
kind: FlowApp
metadata: {name: hooked}
spec:
  functions: {shout: {runtime: python, path: functions/shout}}
  triggers:
    - name: open
      http: {path: /hooks/open, public: true}
    - name: sync
      http: {path: /hooks/sync, mode: sync, public: true}
    - name: guarded
      http: {path: /hooks/guarded, secret: {type: token, header: X-Token, value: s3cret}}
  workflow:
    document: {dsl: '1.0.3', namespace: default, name: hooked, version: '1.0.0'}
    do:
      - shout: {call: shout}
"""
EVENT = {"specversion": "1.0", "id": "e-1", "source": "/tests", "type": "order.created"}


@pytest.fixture
async def hooked(client: httpx.AsyncClient, running: RunningPlatform) -> None:
    running.functions.handlers["shout"] = lambda data, context: {"shouted": str(data).upper()}
    await create_and_deploy(client, HOOKED)


async def test_logs_of_an_app_by_function_and_execution(
    client: httpx.AsyncClient, hooked: None
) -> None:
    started = await client.post("/api/v1/apps/hooked/executions", json="hi", params={"wait": 5})
    execution = started.json()["id"]
    everything = (await client.get("/api/v1/apps/hooked/logs")).json()["items"]
    assert everything[0]["message"] == "function shout started"
    params = {"execution": execution}
    mine = (await client.get("/api/v1/apps/hooked/logs", params=params)).json()["items"]
    assert [line["execution_id"] for line in mine] == [execution]
    assert set(mine[0]) == {
        "time", "app", "function", "instance", "stream", "message", "execution_id"
    }  # fmt: skip
    by_function = {"function": "other", "limit": 5}
    assert (await client.get("/api/v1/apps/hooked/logs", params=by_function)).json() == {
        "items": []
    }
    assert (await client.get("/api/v1/apps/ghost/logs")).status_code == 404


async def test_a_structured_event_is_published(
    client: httpx.AsyncClient, running: RunningPlatform
) -> None:
    for content_type in ("application/cloudevents+json", "application/json"):
        response = await client.post(
            "/api/v1/events", json=EVENT, headers={"Content-Type": content_type}
        )
        assert response.status_code == 202, response.text
        assert response.json() == {"ids": ["e-1"]}
    assert [event["type"] for event in running.events] == ["order.created", "order.created"]


async def test_a_binary_event_is_published(
    client: httpx.AsyncClient, running: RunningPlatform
) -> None:
    headers = {f"ce-{k}": v for k, v in EVENT.items()} | {"Content-Type": "application/json"}
    response = await client.post("/api/v1/events", content=b'{"n": 1}', headers=headers)
    assert response.status_code == 202, response.text
    assert running.events[0]["data"] == {"n": 1}


async def test_a_batch_is_all_or_nothing(
    client: httpx.AsyncClient, running: RunningPlatform
) -> None:
    headers = {"Content-Type": "application/cloudevents-batch+json"}
    good = await client.post(
        "/api/v1/events", json=[EVENT, {**EVENT, "id": "e-2"}], headers=headers
    )
    assert good.json() == {"ids": ["e-1", "e-2"]}
    bad = await client.post("/api/v1/events", json=[EVENT, {"id": "x"}], headers=headers)
    assert bad.status_code == 400
    assert bad.json()["problems"][0]["pointer"].startswith("/1")
    assert len(running.events) == 2


async def test_an_invalid_event_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/events", json={"specversion": "1.0", "id": "x"})
    assert response.status_code == 400
    assert response.json()["title"] == "Invalid CloudEvent"
    assert (await client.post("/api/v1/events", content=b"plain")).status_code == 400


async def test_webhooks_need_no_api_token(hooked: None, api: Any, running: RunningPlatform) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api), base_url="http://hooks.test"
    ) as anonymous:
        accepted = await anonymous.post("/hooks/open", json="hey")
        assert accepted.status_code == 202
        assert accepted.headers["location"].startswith("/api/v1/executions/")
        synced = await anonymous.post("/hooks/sync", json="hey")
        assert (synced.status_code, synced.json()) == (200, {"shouted": "HEY"})
        waited = await anonymous.post("/hooks/open", json="yo", params={"wait": "1"})
        assert waited.json() == {"shouted": "YO"}
        refused = await anonymous.post("/hooks/guarded", json="x")
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        allowed = await anonymous.post("/hooks/guarded", json="x", headers={"X-Token": "s3cret"})
        assert allowed.status_code == 202
        missing = await anonymous.get("/hooks/nowhere")
        assert missing.status_code == 404
        wrong = await anonymous.get("/hooks/open")
        assert (wrong.status_code, wrong.headers["allow"]) == (405, "POST")
        assert wrong.headers["content-type"] == "application/problem+json"
        assert wrong.json()["detail"] == "GET is not accepted on /hooks/open: use POST"


async def test_metrics_serve_the_registry(as_role: Any, registry: CollectorRegistry) -> None:
    Counter("flowapp_test_things", "Things counted.", registry=registry).inc(3)
    async with as_role("viewer") as viewer:
        response = await viewer.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "flowapp_test_things_total 3.0" in response.text


async def test_api_requests_are_counted_and_timed_by_route_template(
    as_role: Any, registry: CollectorRegistry
) -> None:
    async with as_role("viewer") as viewer:
        for execution_id in ("x-1", "x-2", "x-3"):
            assert (await viewer.get(f"/api/v1/executions/{execution_id}")).status_code == 404
        assert (await viewer.get("/api/v1/no/such/thing")).status_code == 404
    async with as_role("nobody") as anonymous:
        assert (await anonymous.get("/api/v1/executions/x-4")).status_code == 401

    def requests(route: str, status: str) -> float | None:
        labels = {"method": "GET", "route": route, "status": status}
        return registry.get_sample_value("flowapp_http_requests_total", labels)

    assert requests("/api/v1/executions/{execution_id}", "404") == 3
    assert requests("/api/v1/executions/{execution_id}", "401") == 1
    assert requests("unmatched", "404") == 1
    timed = {"method": "GET", "route": "/api/v1/executions/{execution_id}"}
    assert registry.get_sample_value("flowapp_http_request_duration_seconds_count", timed) == 4
    assert not any(
        "x-1" in sample.labels.get("route", "")
        for family in registry.collect()
        for sample in family.samples
    )


async def test_the_openapi_document(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert "Problem" in document["components"]["schemas"]
    paths = document["paths"]
    assert "/hooks/{path}" not in paths
    assert paths["/healthz"]["get"]["security"] == []
    invoke = paths["/api/v1/apps/{name}/executions"]["post"]["responses"]
    assert {"200", "202", "400", "404", "413", "4XX", "5XX"} <= set(invoke)
    assert "Location" in invoke["202"]["headers"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            responses = operation["responses"]
            if path != "/healthz":
                assert "401" in responses and "403" in responses, (method, path)
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    assert "application/problem+json" in response["content"], (method, path)


async def test_resources_declared_as_yaml_media_types(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    body = document["paths"]["/api/v1/apps"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/yaml", "text/yaml", "application/json"}
    assert YAML["Content-Type"] in body
