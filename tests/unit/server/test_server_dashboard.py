"""The dashboard served by the API server: its page at ``/`` and at every deep link, its
files, what ``/`` says when it is not built, and the API unchanged around it."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI

from flowapp.local.platform import LocalPlatform
from flowapp.server.app import create_app
from flowapp.server.dashboard import Dashboard
from flowapp.store.memory import MemoryStore
from flowapp.store.platform import MemoryPlatformStore
from tests.unit.server.harness import make_client

PAGE = "<!doctype html><title>flowapp</title><div id=root></div>"


@pytest.fixture
def built(tmp_path: Path) -> Path:
    assets = tmp_path / "dashboard_assets"
    (assets / "assets").mkdir(parents=True)
    (assets / "index.html").write_text(PAGE)
    (assets / "assets" / "index-abc123.js").write_text("console.log('dashboard')")
    (tmp_path / "secret.txt").write_text("not for you")
    return assets


def server(
    assets: Path, store: MemoryStore, platform_store: MemoryPlatformStore, platform: LocalPlatform
) -> FastAPI:
    return create_app(
        platform=platform, store=store, platform_store=platform_store, dashboard=Dashboard(assets)
    )


@pytest.fixture
def dashboard_api(
    built: Path, store: MemoryStore, platform_store: MemoryPlatformStore, platform: LocalPlatform
) -> FastAPI:
    return server(built, store, platform_store, platform)


@pytest.mark.parametrize(
    "path",
    ["/", "/apps", "/apps/shop", "/new", "/executions", "/executions/0190abc?task=/do/0/greet"],
)
async def test_the_page_and_its_deep_links_need_no_token(dashboard_api: FastAPI, path: str) -> None:
    async with make_client(dashboard_api, None) as anonymous:
        answer = await anonymous.get(path)
    assert answer.status_code == 200
    assert answer.text == PAGE
    assert answer.headers["content-type"].startswith("text/html")


async def test_its_files_are_served_and_cacheable(dashboard_api: FastAPI) -> None:
    async with make_client(dashboard_api, None) as anonymous:
        answer = await anonymous.get("/assets/index-abc123.js")
    assert answer.status_code == 200
    assert answer.text == "console.log('dashboard')"
    assert "immutable" in answer.headers["cache-control"]


@pytest.mark.parametrize(
    "path", ["/assets/missing.js", "/assets/../secret.txt", "/assets/%2e%2e/secret.txt"]
)
async def test_no_file_outside_its_folder_is_served(dashboard_api: FastAPI, path: str) -> None:
    async with make_client(dashboard_api, None) as anonymous:
        answer = await anonymous.get(path)
    assert answer.status_code in (401, 404)
    assert "not for you" not in answer.text


async def test_the_api_still_needs_its_token_and_answers_problems(
    dashboard_api: FastAPI, tokens: dict[str, str]
) -> None:
    async with make_client(dashboard_api, None) as anonymous:
        assert (await anonymous.get("/api/v1/apps")).status_code == 401
        assert (await anonymous.get("/somewhere-else")).status_code == 401
    async with make_client(dashboard_api, tokens["admin"]) as admin:
        unknown = await admin.get("/api/v1/nowhere")
        assert unknown.status_code == 404
        assert unknown.headers["content-type"] == "application/problem+json"
        assert (await admin.delete("/api/v1/whoami")).status_code == 405
        assert (await admin.get("/api/v1/whoami")).status_code == 200


async def test_the_page_takes_only_reads(dashboard_api: FastAPI) -> None:
    async with make_client(dashboard_api, None) as anonymous:
        answer = await anonymous.post("/apps/shop", content=b"x")
    assert answer.status_code == 405


async def test_without_a_build_the_page_says_how_to_make_one_and_the_api_works(
    tmp_path: Path,
    store: MemoryStore,
    platform_store: MemoryPlatformStore,
    platform: LocalPlatform,
    tokens: dict[str, str],
) -> None:
    api = server(tmp_path / "never-built", store, platform_store, platform)
    async with make_client(api, None) as anonymous:
        page = await anonymous.get("/apps/shop")
    assert page.status_code == 503
    assert "npm ci" in page.text and "make install" in page.text
    async with make_client(api, tokens["viewer"]) as viewer:
        assert (await viewer.get("/api/v1/apps")).status_code == 200


def test_the_repository_build_goes_where_the_server_reads_it() -> None:
    config = Path(__file__).parents[3] / "dashboard" / "vite.config.ts"
    assert 'outDir: "../flowapp/server/dashboard_assets"' in config.read_text()
    assert Dashboard().assets == Path(__file__).parents[3] / "flowapp/server/dashboard_assets"


async def test_a_real_build_is_a_page_that_loads_its_script(
    store: MemoryStore, platform_store: MemoryPlatformStore, platform: LocalPlatform
) -> None:
    dashboard = Dashboard()
    if not dashboard.built:
        pytest.skip("the dashboard is not built here (make install builds it with npm)")
    api = server(dashboard.assets, store, platform_store, platform)
    async with make_client(api, None) as anonymous:
        page = await anonymous.get("/")
        script = page.text.split('src="', 1)[1].split('"', 1)[0]
        loaded = await anonymous.get(script)
    assert loaded.status_code == 200
    assert "javascript" in loaded.headers["content-type"]
