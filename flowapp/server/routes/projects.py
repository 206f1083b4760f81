"""An app's workflow text and functions, as the dashboard's editor reads and changes them.

    GET  /apps/{name}/workflow     the workflow file's text (comments and all) + its commit
    PUT  /apps/{name}/workflow     commit a new text (checked first; If-Match: the commit read)
    GET  /apps/{name}/functions    each function declared or called: runtime, folder, code?
    POST /apps/{name}/functions    a function folder from the templates, committed
                                   (the same as ``flowapp new function``)

Each works on the app's project on ``main`` (``SourcesPort.get_source``) with the pure
helpers of ``flowapp.apps.projectedit``. Nothing is deployed: ``POST .../deploys`` does.
Those helpers read YAML a developer pushed, which may take seconds (within the documents'
time budget): they run in a worker thread, so the API, webhooks and git hosting go on
answering meanwhile.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Request
from starlette.responses import JSONResponse

from flowapp.apps.errors import ScaffoldError
from flowapp.apps.projectedit import (
    WorkflowFile,
    function_entries,
    with_function,
    workflow_file,
)
from flowapp.apps.scaffold import RUNTIMES
from flowapp.server import models
from flowapp.server.bodies import resource_text
from flowapp.server.deps import SourcesDep
from flowapp.server.openapi import YAML_TEXT, errors, request_body
from flowapp.server.params import AppName
from flowapp.server.platform import (
    Conflict,
    InvalidResource,
    PlatformError,
    SourcesPort,
    SourceView,
)

router = APIRouter(prefix="/api/v1/apps/{name}", tags=["projects"])

WORKFLOW_BODY = request_body(YAML_TEXT, "The workflow file's new text (YAML or JSON).")
IfMatch = Annotated[
    str | None,
    Header(description="The commit the text was read at (its ETag); 409 if main moved since."),
]


class UnusableProject(PlatformError):
    status = 422
    title = "Unusable Project"


async def _source(platform: SourcesPort, name: str) -> SourceView:
    return await platform.get_source(name)


def _workflow_json(name: str, source: SourceView, location: WorkflowFile) -> dict[str, Any]:
    raw = source.files.get(location.path, b"")
    return {
        "app": name,
        "file": location.path,
        "base": location.base,
        "text": raw.decode("utf-8-sig", errors="replace"),
        "commit": source.commit,
    }


async def _location(source: SourceView) -> WorkflowFile:
    try:
        return await asyncio.to_thread(workflow_file, source.files)
    except ScaffoldError as error:
        raise UnusableProject(str(error)) from None


def _etag(commit: str | None) -> dict[str, str]:
    return {"ETag": f'"{commit}"'} if commit else {}


@router.get("/workflow", response_model=models.WorkflowSource, responses=errors(404, 422))
async def get_workflow(sources: SourcesDep, name: AppName) -> Any:
    """The text of the app's workflow as committed, and where the workflow is in it."""
    source = await _source(sources, name)
    body = _workflow_json(name, source, await _location(source))
    return JSONResponse(body, headers=_etag(source.commit))


@router.put(
    "/workflow",
    response_model=models.WorkflowSource,
    responses=errors(400, 404, 409, 413, 415, 422),
    openapi_extra=WORKFLOW_BODY,
)
async def save_workflow(
    request: Request, sources: SourcesDep, name: AppName, if_match: IfMatch = None
) -> Any:
    """Commit a new text of the workflow file; the project is checked first (422 with
    `problems`), and refused (409) if `If-Match` names a commit `main` has moved from."""
    text, _ = await resource_text(request)
    source = await _source(sources, name)
    location = await _location(source)
    files = {**source.files, location.path: text.encode("utf-8")}
    saved = await sources.commit_source(
        name, files, message="Workflow edited in the dashboard", parent=_parent(if_match)
    )
    body = _workflow_json(name, saved, await _location(saved))
    return JSONResponse(body, headers=_etag(saved.commit))


async def validate_in_app(platform: SourcesPort, name: str, text: str) -> list[Any]:
    """Problems of the app's project with its workflow file replaced by ``text``: the
    functions it calls are checked against those the app declares."""
    source = await _source(platform, name)
    files = {**source.files, (await _location(source)).path: text.encode("utf-8")}
    return await platform.validate_source(name, files)


def _parent(if_match: str | None) -> str | None:
    if if_match is None or if_match.strip() == "*":
        return None
    return if_match.strip().removeprefix("W/").strip('"')


async def _functions_json(request: Request, name: str, source: SourceView) -> dict[str, Any]:
    try:
        entries = await asyncio.to_thread(function_entries, source.files)
    except ScaffoldError as error:
        raise UnusableProject(str(error)) from None
    return {
        "app": name,
        "clone_url": f"{str(request.base_url).rstrip('/')}/git/{name}.git",
        "runtimes": list(RUNTIMES),
        "items": [asdict(entry) for entry in entries],
    }


@router.get("/functions", response_model=models.FunctionsView, responses=errors(404, 422))
async def list_functions(request: Request, sources: SourcesDep, name: AppName) -> Any:
    """Every function the app declares or its workflow calls: runtime, folder, whether
    the folder has code yet, and the tasks that call it; and how to clone the project."""
    return await _functions_json(request, name, await _source(sources, name))


@router.post(
    "/functions",
    status_code=201,
    response_model=models.FunctionsView,
    responses=errors(400, 404, 409, 422),
)
async def create_function(
    request: Request,
    sources: SourcesDep,
    name: AppName,
    function: Annotated[models.NewFunction, Body()],
) -> Any:
    """Add `functions/<name>/` from the runtime's templates and declare it in flowapp.yaml,
    in one commit (what `flowapp new function` does in a clone)."""
    source = await _source(sources, name)
    try:
        files = await asyncio.to_thread(
            with_function, source.files, name, function.name, function.runtime
        )
    except ScaffoldError as error:
        exists = "exists" in str(error) or "already declared" in str(error)
        raise (Conflict if exists else InvalidResource)(str(error)) from None
    message = f"Add function {function.name} ({function.runtime}) from the template"
    saved = await sources.commit_source(name, files, message=message, parent=source.commit)
    body = await _functions_json(request, name, saved)
    return JSONResponse(body, status_code=201, headers={"Location": request.url.path})
