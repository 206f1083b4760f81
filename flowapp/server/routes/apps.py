"""Apps: create, read, replace, delete, and validate FlowApps (or plain workflows).

A resource arrives as text, YAML (``application/yaml``, ``text/yaml``) or JSON
(``application/json``), because problems are reported by line and column of that text;
the platform parses and checks it (``Platform.create_app`` ...). Creating an app does
not deploy it: ``POST /api/v1/apps/{name}/deploys`` does (``deploys.py``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from flowapp.server import models
from flowapp.server.auth import TokenDep, in_token_scope
from flowapp.server.bodies import resource_text
from flowapp.server.deps import AppsDep, SourcesDep
from flowapp.server.openapi import YAML_TEXT, errors, links, request_body
from flowapp.server.params import AppName
from flowapp.server.platform import NotFound
from flowapp.server.problems import location_json
from flowapp.server.routes.projects import validate_in_app
from flowapp.server.views import app_json

router = APIRouter(prefix="/api/v1", tags=["apps"])

ValidateIn = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=63,
        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
        description="Check the body as this app's workflow file, within its project.",
    ),
]

RESOURCE_BODY = request_body(
    {**YAML_TEXT, "application/json": {"schema": {"type": "object"}}},
    "A FlowApp resource or a plain Serverless Workflow document.",
)


APP_LINKS = links(
    "get_app",
    "replace_app",
    "delete_app",
    "deploy",
    "rollback",
    "list_deploys",
    "list_revisions",
    "get_traffic",
    "status",
    "logs",
    "list_rules",
    "create_rule",
    "invoke",
    name="$response.body#/name",
)


@router.post(
    "/apps",
    status_code=201,
    response_model=models.App,
    responses={**errors(400, 409, 413, 415, 422), 201: {"links": APP_LINKS}},
    openapi_extra=RESOURCE_BODY,
)
async def create_app(request: Request, response: Response, apps: AppsDep) -> Any:
    """Create an app from a FlowApp or a workflow; its project is scaffolded."""
    text, filename = await resource_text(request)
    view = await apps.create_app(text, filename=filename)
    response.headers["Location"] = f"/api/v1/apps/{view.name}"
    return app_json(view)


@router.get("/apps", response_model=models.AppList, responses=errors())
async def list_apps(apps: AppsDep, token: TokenDep) -> Any:
    """Every app, by name (those the token is limited to, if it is)."""
    views = await apps.list_apps()
    return {"items": [app_json(view) for view in views if in_token_scope(token, view.name)]}


@router.get("/apps/{name}", response_model=models.App, responses=errors(404, 422))
async def get_app(apps: AppsDep, name: AppName) -> Any:
    """One app: its resource, deployed revision, traffic, conditions and observation."""
    return app_json(await apps.get_app(name))


@router.put(
    "/apps/{name}",
    response_model=models.App,
    responses=errors(400, 404, 409, 413, 415, 422),
    openapi_extra=RESOURCE_BODY,
)
async def replace_app(request: Request, apps: AppsDep, name: AppName) -> Any:
    """Replace an app's resource (deploy it to make it run)."""
    text, _ = await resource_text(request)
    return app_json(await apps.update_app(name, text))


@router.delete("/apps/{name}", status_code=204, response_class=Response, responses=errors(404, 422))
async def delete_app(apps: AppsDep, name: AppName) -> Response:
    """Stop the app's functions and triggers and forget it; its executions stay."""
    await apps.delete_app(name)
    return Response(status_code=204)


@router.post(
    "/validate",
    response_model=models.Validation,
    responses=errors(400, 404, 413, 415, 422),
    openapi_extra=RESOURCE_BODY,
)
async def validate(
    request: Request,
    apps: AppsDep,
    sources: SourcesDep,
    token: TokenDep,
    app: ValidateIn = None,
) -> Any:
    """Every problem of a resource, with its location; 200 whether it is valid or not.
    With `app`, the body is that app's workflow file, checked within its project."""
    text, filename = await resource_text(request)
    if app is None:
        problems = await apps.validate_app(text, filename=filename)
    elif not in_token_scope(token, app):
        raise NotFound(f"no app named {app}")
    else:
        problems = await validate_in_app(sources, app, text)
    return {"valid": not problems, "problems": [location_json(p) for p in problems]}
