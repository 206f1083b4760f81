"""The web dashboard: its built files served at ``/``, deep links answered with its page.

    GET /                     -> index.html (the single-page app)
    GET /apps/{name}, /new, /executions[/{id}][?task=...]  -> index.html (it routes itself)
    GET /assets/<hashed file> -> the file, cacheable for a year (its name changes with it)

The files are built from ``dashboard/`` (``make install`` runs ``npm ci`` and the build)
into ``flowapp/server/dashboard_assets``, inside the package, so that a wheel carries
them. When they are missing the page says how to build them and the API works as ever.
The dashboard's paths need no token: the page is public, and every call it makes to
``/api/v1`` carries the token the user logs in with.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

from flowapp.server.problems import problem_json, problem_response

ASSETS = Path(__file__).parent / "dashboard_assets"
# Paths the page itself owns (its router's deep links), all public.
PAGE_PATHS = frozenset({"/", "/index.html", "/new", "/apps", "/executions"})
PAGE_PREFIXES = ("/apps/", "/executions/")
ASSET_PREFIX = "/assets/"
IMMUTABLE = "public, max-age=31536000, immutable"  # file names carry their content's hash
PUBLIC_PATHS = PAGE_PATHS
PUBLIC_PREFIXES = ("/assets", *(prefix.rstrip("/") for prefix in PAGE_PREFIXES))

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>flowapp: dashboard not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 42rem; margin: 3rem auto">
<h1>The dashboard is not built</h1>
<p>This flowapp was installed without the dashboard's files. The API works as usual
(<a href="/docs">/docs</a>). To build the dashboard, install Node.js 20 or newer with npm, then
in the repository run</p>
<pre>make install</pre>
<p>or, by hand,</p>
<pre>cd dashboard &amp;&amp; npm ci &amp;&amp; npm run build</pre>
<p>and reload this page (no restart is needed).</p>
</body></html>
"""


class Dashboard:
    """The dashboard's routes, serving the build in ``assets`` (looked up at each request,
    so a build made while the server runs is picked up)."""

    def __init__(self, assets: Path = ASSETS) -> None:
        self.assets = assets

    @property
    def built(self) -> bool:
        return (self.assets / "index.html").is_file()

    def routes(self) -> list[Route]:
        """Plain routes, not a mount at ``/``: a mount would catch every path, and an API
        route asked with the wrong method must still answer 405, an unknown path 404."""
        page = ["GET", "HEAD"]
        paths = [*sorted(PAGE_PATHS), *(f"{prefix}{{rest:path}}" for prefix in PAGE_PREFIXES)]
        routes = [Route(path, self.page, methods=page, include_in_schema=False) for path in paths]
        routes.append(
            Route(f"{ASSET_PREFIX}{{rest:path}}", self.asset, methods=page, include_in_schema=False)
        )
        return routes

    async def page(self, request: Request) -> Response:
        if not self.built:
            return HTMLResponse(NOT_BUILT, status_code=503)
        return FileResponse(
            self.assets / "index.html",
            media_type="text/html",
            headers={"Cache-Control": "no-cache"},
        )

    async def asset(self, request: Request) -> Response:
        path = request.scope["path"]
        folder = (self.assets / "assets").resolve()
        target = (folder / str(request.path_params["rest"])).resolve()
        if folder not in target.parents or not target.is_file():
            return problem_response(problem_json(404, f"no such file: {path}", instance=path))
        return FileResponse(
            target, headers={"Cache-Control": "public, max-age=31536000, immutable"}
        )
