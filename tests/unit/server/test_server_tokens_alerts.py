"""Tokens (admin) and alert rules (developer) through the API."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

ALERT = {
    "name": "too-many-failures",
    "kind": "failed_executions",
    "threshold": 3,
    "window_seconds": 300,
    "webhook_url": "https://hooks.example.com/alerts",
}


async def test_create_list_revoke_tokens(admin: httpx.AsyncClient) -> None:
    created = await admin.post("/api/v1/tokens", json={"name": "ci", "role": "developer"})
    assert created.status_code == 201
    token = created.json()
    assert token["token"].startswith("fa_") and token["prefix"] == token["token"][:8]
    assert token["role"] == "developer" and token["revoked_at"] is None
    listed = (await admin.get("/api/v1/tokens")).json()["items"]
    assert "ci" in [item["name"] for item in listed]
    assert all("token" not in item and "secret_hash" not in item for item in listed)
    assert (await admin.delete(f"/api/v1/tokens/{token['id']}")).status_code == 204
    assert (await admin.delete(f"/api/v1/tokens/{token['id']}")).status_code == 204  # idempotent
    revoked = [item for item in (await admin.get("/api/v1/tokens")).json()["items"]]
    assert next(i for i in revoked if i["id"] == token["id"])["revoked_at"] is not None
    assert (await admin.delete("/api/v1/tokens/9999")).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "role": "root"},
        {"name": "", "role": "viewer"},
        {"role": "viewer"},
        {"name": "x", "role": "viewer", "extra": 1},
        ["x"],
    ],
)
async def test_invalid_token_requests_are_422(admin: httpx.AsyncClient, body: Any) -> None:
    response = await admin.post("/api/v1/tokens", json=body)
    assert response.status_code == 422
    assert response.json()["problems"]


async def test_a_blank_token_name_is_refused_by_the_store(admin: httpx.AsyncClient) -> None:
    response = await admin.post("/api/v1/tokens", json={"name": "   ", "role": "viewer"})
    assert response.status_code == 422


async def test_alert_rules_lifecycle(client: httpx.AsyncClient, hello: dict[str, Any]) -> None:
    created = await client.post("/api/v1/apps/hello/alerts", json=ALERT)
    assert created.status_code == 201, created.text
    rule = created.json()
    assert rule["app"] == "hello" and rule["enabled"] is True and rule["function"] is None
    duplicate = await client.post("/api/v1/apps/hello/alerts", json=ALERT)
    assert duplicate.status_code == 409
    listed = (await client.get("/api/v1/apps/hello/alerts")).json()["items"]
    assert [item["id"] for item in listed] == [rule["id"]]
    assert (await client.delete(f"/api/v1/apps/hello/alerts/{rule['id']}")).status_code == 204
    assert (await client.delete(f"/api/v1/apps/hello/alerts/{rule['id']}")).status_code == 404


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "cpu"},
        {"window_seconds": 0},
        {"window_seconds": -5},
        {"threshold": -1},
        {"webhook_url": "ftp://example.com/x"},
        {"webhook_url": "https://"},
        {"webhook_url": "not a url"},
    ],
)
async def test_invalid_alert_rules_are_422(
    client: httpx.AsyncClient, hello: dict[str, Any], change: dict[str, Any]
) -> None:
    response = await client.post("/api/v1/apps/hello/alerts", json={**ALERT, **change})
    assert response.status_code == 422, response.text
    assert response.json()["problems"][0]["file"] == "<body>"


async def test_alerts_of_an_unknown_app_are_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/apps/ghost/alerts")).status_code == 404
    assert (await client.post("/api/v1/apps/ghost/alerts", json=ALERT)).status_code == 404


async def test_a_rule_is_deleted_only_through_its_app(
    client: httpx.AsyncClient, hello: dict[str, Any]
) -> None:
    rule = (await client.post("/api/v1/apps/hello/alerts", json=ALERT)).json()
    assert (await client.delete(f"/api/v1/apps/other/alerts/{rule['id']}")).status_code == 404


async def test_a_viewer_reads_alerts_but_may_not_create_them(
    as_role: Any, hello: dict[str, Any]
) -> None:
    async with as_role("viewer") as viewer:
        assert (await viewer.get("/api/v1/apps/hello/alerts")).status_code == 200
        assert (await viewer.post("/api/v1/apps/hello/alerts", json=ALERT)).status_code == 403
