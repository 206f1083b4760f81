"""``git_http_app`` in process (httpx's ASGI transport): routes, refusals, authentication.

The protocol itself, driven by the real git client, is in tests/integration/gitrepos.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from flowapp.gitrepos import Repositories, git_http_app
from flowapp.gitrepos.http import Authenticate

AUTHOR = "Ada <ada@example.com>"
REFS = "/orders.git/info/refs?service=git-upload-pack"
TOKEN = "fa_secret"

MakeClient = Callable[..., Awaitable[httpx.AsyncClient]]


def basic(username: str, password: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


@pytest.fixture
async def make_client(repos: Repositories) -> AsyncIterator[MakeClient]:
    repos.create("orders", {"a": b"1"}, message="one", author=AUTHOR)
    clients: list[httpx.AsyncClient] = []

    async def make(
        authenticate: Authenticate | None = None, **options: object
    ) -> httpx.AsyncClient:
        app = git_http_app(repos, authenticate=authenticate, on_push=None)
        transport = httpx.ASGITransport(app=app, **options)  # type: ignore[arg-type]
        client = httpx.AsyncClient(transport=transport, base_url="http://git.test")
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


async def test_info_refs_advertises_the_refs_of_the_repository(
    make_client: MakeClient, repos: Repositories
) -> None:
    client = await make_client()

    response = await client.get(REFS)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-git-upload-pack-advertisement"
    assert response.headers["cache-control"].startswith("no-cache")
    assert response.content.startswith(b"001e# service=git-upload-pack\n0000")
    head = repos.head("orders")
    assert head is not None and f"{head} refs/heads/main".encode() in response.content


async def test_the_git_suffix_is_optional_and_a_mount_point_is_honoured(
    make_client: MakeClient,
) -> None:
    client = await make_client(root_path="/git")

    response = await client.get("/git/orders/info/refs?service=git-receive-pack")

    assert response.status_code == 200
    assert b"report-status" in response.content


@pytest.mark.parametrize(
    "path",
    [
        "/ghost.git/info/refs?service=git-upload-pack",
        "/%2e%2e/orders.git/info/refs?service=git-upload-pack",
        "/..%2forders.git/info/refs?service=git-upload-pack",
        "/Orders.git/info/refs?service=git-upload-pack",
        "/orders.git/objects/info/packs",
        "/orders.git/HEAD",
        "/",
    ],
)
async def test_anything_but_an_existing_repository_is_not_found(
    make_client: MakeClient, path: str
) -> None:
    client = await make_client()

    response = await client.get(path)

    assert response.status_code == 404


async def test_the_dumb_protocol_is_refused(make_client: MakeClient) -> None:
    client = await make_client()

    response = await client.get("/orders.git/info/refs")

    assert response.status_code == 403
    assert "smart HTTP" in response.text


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [("POST", REFS, "GET"), ("GET", "/orders.git/git-upload-pack", "POST")],
)
async def test_wrong_methods_are_refused(
    make_client: MakeClient, method: str, path: str, allowed: str
) -> None:
    client = await make_client()

    response = await client.request(method, path)

    assert response.status_code == 405
    assert response.headers["allow"] == allowed


async def test_a_service_request_needs_the_git_content_type(make_client: MakeClient) -> None:
    # A browser cannot send this content type cross-origin without a preflight (CSRF).
    client = await make_client()

    response = await client.post(
        "/orders.git/git-receive-pack", content=b"0000", headers={"Content-Type": "text/plain"}
    )

    assert response.status_code == 415


async def test_without_credentials_the_client_is_challenged(make_client: MakeClient) -> None:
    seen: list[tuple[str, str | None, str | None]] = []

    async def authenticate(app: str, username: str | None, password: str | None) -> bool:
        seen.append((app, username, password))
        return password == TOKEN

    client = await make_client(authenticate)

    response = await client.get(REFS)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="flowapp"'
    assert seen == [("orders", None, None)]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (basic("ada", TOKEN), 200),
        (basic("ada", "wrong"), 401),
        ({"Authorization": f"Bearer {TOKEN}"}, 200),
        ({"Authorization": "Basic !!not-base64"}, 401),
        ({"Authorization": "Digest whatever"}, 401),
    ],
)
async def test_credentials_are_checked_with_authenticate(
    make_client: MakeClient, headers: dict[str, str], status: int
) -> None:
    async def authenticate(app: str, username: str | None, password: str | None) -> bool:
        return password == TOKEN

    client = await make_client(authenticate)

    assert (await client.get(REFS, headers=headers)).status_code == status


async def test_unknown_repositories_are_not_found_only_after_authentication(
    make_client: MakeClient,
) -> None:
    # Existence is not revealed to a caller without credentials.
    async def authenticate(app: str, username: str | None, password: str | None) -> bool:
        return password == TOKEN

    client = await make_client(authenticate)
    ghost = "/ghost.git/info/refs?service=git-upload-pack"

    assert (await client.get(ghost)).status_code == 401
    assert (await client.get(ghost, headers=basic("ada", TOKEN))).status_code == 404


async def test_a_failing_authenticate_refuses_and_is_logged(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    async def authenticate(app: str, username: str | None, password: str | None) -> bool:
        raise RuntimeError("token store down")

    client = await make_client(authenticate)

    response = await client.get(REFS, headers=basic("ada", TOKEN))

    assert response.status_code == 401
    assert "authenticate() failed" in caplog.text


@pytest.mark.parametrize("path", ["/../orders.git/info/refs", "/x/../orders.git/info/refs"])
async def test_paths_with_dot_dot_are_not_found(repos: Repositories, path: str) -> None:
    # httpx normalises such URLs away, so the ASGI app is called with the raw path.
    repos.create("orders", {}, message="one", author=AUTHOR)
    app = git_http_app(repos, authenticate=None, on_push=None)
    sent: list[dict[str, object]] = []
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": b"service=git-upload-pack",
        "headers": [],
    }

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    await app(scope, receive, send)  # type: ignore[arg-type]

    assert sent[0]["status"] == 404
