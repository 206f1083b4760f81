"""Revisions, deploys and traffic of an app, and project uploads (``flowapp deploy``).

A deploy builds the app's current source into an immutable revision and sends it all
traffic; ``traffic`` splits new executions between ready revisions (canary), ``rollback``
sends everything back to the previous one. ``PUT .../source`` takes a project folder as a
gzipped tar (up to the larger source limit), commits it and deploys it.

Both deploying routes answer with the deploy once it ended, or, with ``?stream=true``,
as an NDJSON stream of progress lines ending in the deploy or a problem
(``flowapp.server.streaming``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request
from starlette.responses import JSONResponse

from flowapp.server import models
from flowapp.server.bodies import archive_body
from flowapp.server.deps import DeploysDep, Services, ServicesDep
from flowapp.server.openapi import errors, request_body
from flowapp.server.params import AppName
from flowapp.server.platform import DeployView, Progress
from flowapp.server.streaming import NDJSON, DeployRun, stream_deploy
from flowapp.server.views import LISTED_LOG_CHARACTERS, deploy_json, revision_json, traffic_json

router = APIRouter(prefix="/api/v1/apps/{name}", tags=["deploys"])

DeployId = Annotated[int, Path(ge=1, le=2**53, description="The deploy's id.")]

Stream = Annotated[bool, Query(description="Answer with NDJSON progress lines.")]
DEPLOY_DOC = {"content": {NDJSON: {"schema": {"type": "string"}}}}
BINARY = {"schema": {"type": "string", "format": "binary"}}
ARCHIVE_BODY = request_body(
    {"application/gzip": BINARY, "application/octet-stream": BINARY},
    "The project folder as a gzipped tar (flowapp.yaml at its root).",
)


@router.post(
    "/deploys",
    status_code=201,
    response_model=models.Deploy,
    responses={**errors(404, 409, 422), 200: {"description": "Progress stream.", **DEPLOY_DOC}},
)
async def deploy(
    services: ServicesDep, deploys: DeploysDep, name: AppName, stream: Stream = False
) -> Any:
    """Build and start a new revision of the app and send it all traffic."""
    await deploys.get_app(name)  # an unknown app is a 404, not a stream ending in one

    async def run(progress: Progress | None) -> DeployView:
        return await deploys.deploy(name, progress=progress)

    return await _answer(services, run, stream, f"/api/v1/apps/{name}/deploys", 201)


@router.put(
    "/source",
    response_model=models.Deploy,
    responses={**errors(400, 404, 409, 413, 415, 422), 200: DEPLOY_DOC},
    openapi_extra=ARCHIVE_BODY,
)
async def upload_source(
    request: Request,
    services: ServicesDep,
    deploys: DeploysDep,
    name: AppName,
    stream: Stream = False,
) -> Any:
    """Commit a project folder to the app's repository (creating the app) and deploy it."""
    archive = await archive_body(request)

    async def run(progress: Progress | None) -> DeployView:
        return await deploys.upload_source(name, archive, progress=progress)

    return await _answer(services, run, stream, request.url.path, 200)


async def _answer(
    services: Services, run: DeployRun, stream: bool, instance: str, status: int
) -> Any:
    if stream:
        return stream_deploy(run, instance=instance, background=services.background)
    view = await run(None)
    return JSONResponse(deploy_json(view), status_code=status)


@router.get("/deploys", response_model=models.DeployList, responses=errors(404, 422))
async def list_deploys(deploys: DeploysDep, name: AppName) -> Any:
    """The app's deploys, newest first, each with the end of its log."""
    views = await deploys.list_deploys(name)
    return {"items": [deploy_json(view, log_limit=LISTED_LOG_CHARACTERS) for view in views]}


@router.get("/deploys/{deploy_id}", response_model=models.Deploy, responses=errors(404, 422))
async def get_deploy(deploys: DeploysDep, name: AppName, deploy_id: DeployId) -> Any:
    """One deploy, with its whole log."""
    return deploy_json(await deploys.get_deploy(name, deploy_id))


@router.get("/revisions", response_model=models.RevisionList, responses=errors(404, 422))
async def list_revisions(deploys: DeploysDep, name: AppName) -> Any:
    """The app's revisions, newest first."""
    views = await deploys.list_revisions(name)
    return {"items": [revision_json(view) for view in views]}


@router.get("/traffic", response_model=list[models.TrafficSplit], responses=errors(404, 422))
async def get_traffic(deploys: DeploysDep, name: AppName) -> Any:
    """How new executions are split between revisions, by percent."""
    return traffic_json((await deploys.get_app(name)).traffic)


@router.put("/traffic", response_model=list[models.TrafficSplit], responses=errors(400, 404, 422))
async def set_traffic(
    deploys: DeploysDep,
    name: AppName,
    splits: Annotated[list[models.TrafficSplit], Body(min_length=1, max_length=100)],
) -> Any:
    """Split new executions between ready revisions; percents add up to 100."""
    pairs = [(split.revision, split.percent) for split in splits]
    return traffic_json(await deploys.set_traffic(name, pairs))


@router.post("/rollback", response_model=list[models.TrafficSplit], responses=errors(404, 409, 422))
async def rollback(deploys: DeploysDep, name: AppName) -> Any:
    """All traffic back to the revision before the current one."""
    return traffic_json(await deploys.rollback(name))
