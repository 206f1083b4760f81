"""Controlling an execution: cancel, suspend, resume, retry (from the task that failed)
and rerun (a new execution with the same input).

The platform signals whichever engine holds the execution, so the change happens soon
after the answer, not before it: 202 Accepted. ``rerun`` answers with the new
execution's id and its ``Location``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import JSONResponse

from flowapp.server import models
from flowapp.server.bodies import decode_text, parse_json
from flowapp.server.deps import InvocationsDep
from flowapp.server.invocations import execution_location
from flowapp.server.openapi import errors, problem, request_body
from flowapp.server.params import ExecutionId
from flowapp.server.routes.executions import execution_in_scope

router = APIRouter(
    prefix="/api/v1/executions/{execution_id}",
    tags=["executions"],
    dependencies=[Depends(execution_in_scope)],
)

CONTROL_DOC = errors(404, 409, 422)


def _requested(execution_id: str, action: str) -> dict[str, Any]:
    return {"id": execution_id, "action": action}


@router.post(
    "/cancel", status_code=202, response_model=models.ControlRequested, responses=CONTROL_DOC
)
async def cancel(executions: InvocationsDep, execution_id: ExecutionId) -> Any:
    """Cancel the execution: whatever it waits for is stopped."""
    await executions.cancel(execution_id)
    return _requested(execution_id, "cancel")


@router.post(
    "/suspend", status_code=202, response_model=models.ControlRequested, responses=CONTROL_DOC
)
async def suspend(executions: InvocationsDep, execution_id: ExecutionId) -> Any:
    """Suspend the execution: it stops after its running tasks until resumed."""
    await executions.suspend(execution_id)
    return _requested(execution_id, "suspend")


@router.post(
    "/resume", status_code=202, response_model=models.ControlRequested, responses=CONTROL_DOC
)
async def resume(executions: InvocationsDep, execution_id: ExecutionId) -> Any:
    """Resume a suspended execution."""
    await executions.resume(execution_id)
    return _requested(execution_id, "resume")


@router.post("/retry", status_code=202, response_model=models.RetryRequested, responses=CONTROL_DOC)
async def retry(executions: InvocationsDep, execution_id: ExecutionId) -> Any:
    """Retry a faulted execution from the task that failed (409 unless it faulted): the
    tasks that completed are not run again. It runs on the app's serving revision when
    that revision's workflow still has every completed task at the same place, else on
    the execution's own; `revision` says which."""
    started = await executions.retry(execution_id)
    return {
        **_requested(execution_id, "retry"),
        "revision": started.revision,
        "previous_revision": started.previous_revision,
    }


RERUN_INPUT = request_body(
    {"application/json": {"schema": {}}},
    "The new execution's input, any JSON value; no body: the same input.",
    required=False,
)


@router.post(
    "/rerun",
    status_code=202,
    response_model=models.Rerun,
    responses={
        **CONTROL_DOC,
        400: problem(400, "The body is not JSON."),
        202: {"headers": {"Location": {"schema": {"type": "string"}}}},
    },
    openapi_extra=RERUN_INPUT,
)
async def rerun(
    request: Request, executions: InvocationsDep, execution_id: ExecutionId
) -> JSONResponse:
    """Start a new execution on the app's serving revision, with the same input or the
    one in the body (an edited input: `null` is an input too, an empty body is not);
    answers with the new one's id and its revision."""
    raw = await request.body()
    if decode_text(raw).strip():
        value = parse_json(raw)
        started = await executions.rerun(execution_id, replace_input=True, input=value)
    else:
        started = await executions.rerun(execution_id)
    body = {
        "id": started.id,
        "status": "running",
        "rerun_of": execution_id,
        "revision": started.revision,
    }
    location = {"Location": execution_location(started.id)}
    return JSONResponse(body, status_code=202, headers=location)
