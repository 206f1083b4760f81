"""What an app is doing: its functions' logs and its status (conditions, observation).

Logs are read from the platform (the supervisor keeps them per function instance);
``execution`` narrows them to the lines a function printed while serving that execution.
Status is what the syncer last reported, as ``get_app`` returns it.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query

from flowapp.server import models
from flowapp.server.deps import LogsDep, blocking
from flowapp.server.openapi import errors
from flowapp.server.params import AppName
from flowapp.server.platform import LogQuery
from flowapp.server.views import log_json, status_json

router = APIRouter(prefix="/api/v1/apps/{name}", tags=["apps"])


@router.get("/logs", response_model=models.LogList, responses=errors(404, 422))
async def logs(
    apps: LogsDep,
    name: AppName,
    function: Annotated[
        str | None, Query(max_length=63, description="Only this function's.")
    ] = None,
    execution: Annotated[
        str | None, Query(max_length=200, description="Only lines of this execution.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="The last this many.")] = 200,
) -> Any:
    """The app's function logs, oldest first (the last ``limit`` lines)."""
    await apps.get_app(name)  # an unknown app is a 404, not an empty list
    read = partial(apps.logs, LogQuery(name, function, execution, limit))
    return {"items": [log_json(line) for line in await blocking(read)]}


@router.get("/status", response_model=models.AppStatus, responses=errors(404, 422))
async def status(apps: LogsDep, name: AppName) -> Any:
    """Whether the app is ready, its conditions, and its functions and triggers as seen."""
    return status_json(await apps.get_app(name))
