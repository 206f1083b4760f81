"""``/docs`` and ``/redoc`` work without a network: every script, stylesheet and icon
their pages load is served by this server, without a token."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest


@pytest.fixture
async def anonymous(api: Any) -> Any:
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(transport=transport, base_url="http://docs.test") as client:
        yield client


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_viewers_load_everything_from_this_server(anonymous: Any, page: str) -> None:
    answer = await anonymous.get(page)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    loaded = re.findall(r"""(?:src|href|spec-url)=["']([^"']+)["']""", answer.text)
    loaded += re.findall(r"""url:\s*['"]([^'"]+)['"]""", answer.text)
    assert loaded, answer.text
    assert not [url for url in loaded if "//" in url], loaded  # no CDN, no other host
    for url in loaded:
        fetched = await anonymous.get(url)
        assert fetched.status_code == 200, url
        assert len(fetched.content) > 0
    assert "/openapi.json" in loaded


async def test_only_the_viewers_files_are_served(anonymous: Any) -> None:
    script = await anonymous.get("/docs/assets/swagger-ui-bundle.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert b"SwaggerUIBundle" in script.content
    for name in ("core.py", "..%2fcore.py", "index.html", "swagger-ui.css.map"):
        assert (await anonymous.get(f"/docs/assets/{name}")).status_code == 404
