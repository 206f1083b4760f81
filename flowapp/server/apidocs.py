"""The OpenAPI document's viewers, ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), served
with their scripts from this server.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, which a machine without
internet access (and a browser behind a strict proxy) cannot reach: the page stays blank.
The same files come from the ``fastapi-offline`` package (pinned in ``pyproject.toml``;
Swagger UI is Apache-2.0, ReDoc MIT), served under ``/docs/assets/`` from a fixed list, so
no request names a file outside it. Public, like the document itself (``auth.py``).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

from flowapp.server.problems import problem_json, problem_response

DOCS, REDOC, OAUTH2_REDIRECT = "/docs", "/redoc", "/docs/oauth2-redirect"
ASSETS = "/docs/assets/"
FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}


def assets_folder() -> Path:
    return Path(str(files("fastapi_offline") / "static"))


def install(app: FastAPI) -> None:
    """Add the viewers and their files to an app made with ``docs_url=None,
    redoc_url=None``."""
    title = app.title
    openapi_url = app.openapi_url or "/openapi.json"

    async def swagger(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} - Swagger UI",
            oauth2_redirect_url=OAUTH2_REDIRECT,
            swagger_js_url=f"{ASSETS}swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}favicon.png",
        )

    async def redoc(request: Request) -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} - ReDoc",
            redoc_js_url=f"{ASSETS}redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS}favicon.png",
            with_google_fonts=False,
        )

    async def oauth2_redirect(request: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    get = ["GET", "HEAD"]
    app.router.routes.extend(
        [
            Route(DOCS, swagger, methods=get, include_in_schema=False),
            Route(REDOC, redoc, methods=get, include_in_schema=False),
            Route(OAUTH2_REDIRECT, oauth2_redirect, methods=get, include_in_schema=False),
            Route(f"{ASSETS}{{name}}", asset, methods=get, include_in_schema=False),
        ]
    )


async def asset(request: Request) -> Response:
    name = str(request.path_params["name"])
    if name not in FILES:
        path = request.url.path
        return problem_response(problem_json(404, f"no such file: {path}", instance=path))
    headers = {"Cache-Control": "public, max-age=86400"}
    return FileResponse(assets_folder() / name, media_type=FILES[name], headers=headers)
