"""Who may call what: bearer tokens, the three roles, and the public paths."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from flowapp.local.platform import LocalPlatform
from flowapp.server.app import create_app
from flowapp.server.auth import allows, bearer_token, required_role
from flowapp.store.memory import MemoryStore
from flowapp.store.platform import MemoryPlatformStore
from tests.unit.server.harness import AsRole, make_client

# (method, path, body) of a request per kind of access; bodies are valid where one is needed.
READS = [
    ("GET", "/api/v1/apps", None),
    ("GET", "/api/v1/executions", None),
    ("GET", "/api/v1/whoami", None),
    ("GET", "/metrics", None),
]
WRITES = [
    ("POST", "/api/v1/events", {"specversion": "1.0", "id": "1", "source": "s", "type": "t"}),
    ("POST", "/api/v1/apps/hello/executions", {"name": "x"}),
    ("DELETE", "/api/v1/apps/nothing-here", None),
]
ADMIN = [
    ("GET", "/api/v1/tokens", None),
    ("POST", "/api/v1/tokens", {"name": "ci", "role": "viewer"}),
]


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/healthz", None),
        ("GET", "/openapi.json", None),
        ("POST", "/hooks/orders", None),
        ("GET", "/api/v1/apps", "viewer"),
        ("HEAD", "/api/v1/apps", "viewer"),
        ("OPTIONS", "/api/v1/apps", "viewer"),
        ("POST", "/api/v1/validate", "viewer"),
        ("POST", "/api/v1/apps", "developer"),
        ("PUT", "/api/v1/apps/a/traffic", "developer"),
        ("GET", "/api/v1/tokens", "admin"),
        ("DELETE", "/api/v1/tokens/3", "admin"),
        ("GET", "/api/v1/apps/a/run-policy", "viewer"),
        ("PUT", "/api/v1/apps/a/run-policy", "admin"),
        ("PUT", "/api/v1/apps/a/run-policy/", "admin"),
        ("POST", "/api/v1/apps/a/run-policy", "admin"),
        ("GET", "/metrics", "viewer"),
        ("GET", "/somewhere/else", "viewer"),  # not public unless declared: default deny
        ("POST", "/somewhere/else", "developer"),
    ],
)
def test_required_role(method: str, path: str, expected: str | None) -> None:
    assert required_role(method, path) == expected


def test_mounts_are_public_under_their_prefix_only() -> None:
    assert required_role("POST", "/git/app.git/info", public_prefixes=["/git"]) is None
    assert required_role("GET", "/git", public_prefixes=["/git/"]) is None
    assert required_role("GET", "/gitx", public_prefixes=["/git"]) == "viewer"


def test_a_root_mount_never_makes_the_api_public() -> None:
    assert required_role("GET", "/index.html", public_prefixes=["/"]) is None
    assert required_role("GET", "/api/v1/apps", public_prefixes=["/"]) == "viewer"
    assert required_role("GET", "/metrics", public_prefixes=["/"]) == "viewer"
    assert required_role("GET", "/api/v1/tokens", public_prefixes=["/api"]) == "admin"


async def test_mounts_and_extra_routes(
    platform: LocalPlatform,
    store: MemoryStore,
    platform_store: MemoryPlatformStore,
    tokens: dict[str, str],
) -> None:
    extra = APIRouter()

    @extra.get("/api/v1/extra")
    async def extra_route() -> dict[str, str]:
        return {"extra": "yes"}

    async def mounted(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse(f"mounted {scope['path']}")(scope, receive, send)

    app = create_app(
        platform=platform,
        store=store,
        platform_store=platform_store,
        extra_routes=[extra],
        mounts={"/git": mounted},
    )
    async with make_client(app, None) as anonymous:
        assert (await anonymous.get("/git/hello.git/info/refs")).text.startswith("mounted")
        assert (await anonymous.get("/api/v1/extra")).status_code == 401
    async with make_client(app, tokens["viewer"]) as viewer:
        assert (await viewer.get("/api/v1/extra")).json() == {"extra": "yes"}


def test_roles_are_ordered() -> None:
    assert allows("admin", "developer") and allows("developer", "viewer")
    assert not allows("viewer", "developer") and not allows("developer", "admin")
    assert not allows("root", "viewer")


@pytest.mark.parametrize(
    ("header", "token"),
    [("Bearer fa_x", "fa_x"), ("bearer  fa_x ", "fa_x"), ("Basic abc", None), ("Bearer", None)],
)
def test_bearer_token(header: str, token: str | None) -> None:
    assert bearer_token(header) == token


async def test_healthz_needs_no_token(as_role: AsRole) -> None:
    async with as_role("nobody") as anonymous:
        response = await anonymous.get("/healthz")
        assert (await anonymous.head("/healthz")).status_code == 200
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize(("method", "path", "body"), READS + WRITES + ADMIN)
async def test_a_missing_token_is_401_with_a_challenge(
    as_role: AsRole, method: str, path: str, body: object
) -> None:
    async with as_role("nobody") as anonymous:
        response = await anonymous.request(method, path, json=body)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["instance"] == path


@pytest.mark.parametrize("token", ["fa_" + "x" * 43, "garbage", "revoked"])
async def test_unknown_malformed_and_revoked_tokens_are_401(as_role: AsRole, token: str) -> None:
    async with as_role(token if token != "garbage" else "fa_garbage") as client:
        response = await client.get("/api/v1/apps")
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert response.json()["title"] == "Unauthorized"


async def test_a_bad_body_without_a_token_is_401_not_400(as_role: AsRole) -> None:
    async with as_role("nobody") as anonymous:
        response = await anonymous.post("/api/v1/tokens", content=b"{not json")
    assert response.status_code == 401


@pytest.mark.parametrize(("method", "path", "body"), READS)
@pytest.mark.parametrize("role", ["viewer", "developer", "admin"])
async def test_every_role_reads(
    as_role: AsRole, role: str, method: str, path: str, body: object
) -> None:
    async with as_role(role) as client:
        response = await client.request(method, path, json=body)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
async def test_a_viewer_may_not_write(
    as_role: AsRole, method: str, path: str, body: object
) -> None:
    async with as_role("viewer") as viewer:
        response = await viewer.request(method, path, json=body)
    assert response.status_code == 403
    problem = response.json()
    assert problem["title"] == "Forbidden"
    assert "developer" in problem["detail"]


@pytest.mark.parametrize("role", ["developer", "admin"])
@pytest.mark.parametrize(("method", "path", "body"), WRITES)
async def test_developers_and_admins_write(
    as_role: AsRole, role: str, method: str, path: str, body: object
) -> None:
    async with as_role(role) as client:
        response = await client.request(method, path, json=body)
    assert response.status_code not in (401, 403), response.text


@pytest.mark.parametrize("role", ["viewer", "developer"])
@pytest.mark.parametrize(("method", "path", "body"), ADMIN)
async def test_only_admins_manage_tokens(
    as_role: AsRole, role: str, method: str, path: str, body: object
) -> None:
    async with as_role(role) as client:
        refused = await client.request(method, path, json=body)
    async with as_role("admin") as admin:
        allowed = await admin.request(method, path, json=body)
    assert refused.status_code == 403
    assert allowed.status_code in (200, 201)


async def test_a_viewer_may_validate(as_role: AsRole) -> None:
    async with as_role("viewer") as viewer:
        response = await viewer.post("/api/v1/validate", content="document: 1")
    assert response.status_code == 200


async def test_a_revoked_token_stops_working_at_once(
    as_role: AsRole, admin: httpx.AsyncClient
) -> None:
    created = (await admin.post("/api/v1/tokens", json={"name": "ci", "role": "viewer"})).json()
    async with as_role(created["token"]) as client:
        assert (await client.get("/api/v1/apps")).status_code == 200
        assert (await admin.delete(f"/api/v1/tokens/{created['id']}")).status_code == 204
        assert (await client.get("/api/v1/apps")).status_code == 401


async def test_whoami_names_the_token_without_its_secret(as_role: AsRole) -> None:
    async with as_role("developer") as client:
        me = (await client.get("/api/v1/whoami")).json()
    assert me["name"] == "developer" and me["role"] == "developer"
    assert me["prefix"].startswith("fa_") and "secret_hash" not in me and "token" not in me
