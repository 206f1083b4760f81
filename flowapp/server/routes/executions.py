"""Executions: start one (the invocation contract), read one with its task runs, list them.

Starting goes through the platform (it picks a revision by traffic and may wait for the
outcome, ``flowapp.server.invocations``); reading and listing go to the execution store
directly, in a worker thread, since they need nothing but the database.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, HTTPException, Query, Request
from starlette.responses import JSONResponse

from flowapp.server import models
from flowapp.server.auth import TokenDep, in_token_scope
from flowapp.server.bodies import json_body
from flowapp.server.deps import InvocationsDep, ServicesDep, blocking
from flowapp.server.invocations import BadParameter, answer, idempotency_scope, parse_wait
from flowapp.server.openapi import errors, faulted_or_problem, links, request_body
from flowapp.server.params import AppName, ExecutionId
from flowapp.server.platform import NotFound
from flowapp.server.views import execution_json
from flowapp.store.platform import TokenRecord
from flowapp.store.port import ExecutionFilter, ExecutionRecord, TaskRunRecord
from flowapp.store.rules import decode_cursor

router = APIRouter(prefix="/api/v1", tags=["executions"])

Status = Literal["pending", "running", "waiting", "suspended", "cancelled", "faulted", "completed"]
Wait = Annotated[
    str | None,
    Query(
        max_length=50,
        description="Wait this long for the outcome: seconds (30, 2.5) or ISO 8601 (PT30S).",
        examples=["30"],
    ),
]
Moment = Annotated[
    str | None,
    Query(
        max_length=64,
        description="An ISO 8601 date-time; UTC unless it names a zone.",
        json_schema_extra={"format": "date-time"},
        examples=["2024-05-01T12:00:00Z"],
    ),
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=200,
        description="Invocations of this app with the same key start one execution.",
    ),
]
INPUT_BODY = request_body(
    {"application/json": {"schema": {}, "example": {"name": "world"}}},
    "The workflow's input: any JSON value (an empty body is null).",
    required=False,
)
LOCATION = {"Location": {"schema": {"type": "string"}, "description": "The execution."}}
EXECUTION_LINKS = links(
    "get_execution",
    "cancel",
    "suspend",
    "resume",
    "retry",
    "rerun",
    execution_id="$response.body#/id",
)
INVOKE_DOC: dict[int | str, dict[str, Any]] = {
    **errors(404, 409, 413, 422),
    200: {
        "model": models.Completed,
        "description": "Completed within `wait`.",
        "links": EXECUTION_LINKS,
    },
    202: {
        "model": models.Accepted,
        "description": "Still running.",
        "headers": LOCATION,
        "links": EXECUTION_LINKS,
    },
    400: faulted_or_problem("The input is not JSON, or the execution faulted with 400."),
    "4XX": faulted_or_problem("The execution faulted with this status."),
    "5XX": faulted_or_problem("The execution faulted with this status, or the server failed."),
}


@router.post(
    "/apps/{name}/executions",
    status_code=202,
    response_model=models.Accepted,
    responses=INVOKE_DOC,
    openapi_extra=INPUT_BODY,
)
async def invoke(
    request: Request,
    services: ServicesDep,
    executions: InvocationsDep,
    name: AppName,
    wait: Wait = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Start an execution; with `wait`, answer with its outcome if it ends in time."""
    seconds = parse_wait(wait, limit=services.settings.max_wait_seconds)
    value = await json_body(request)
    key = idempotency_scope(name, idempotency_key)
    result = await executions.invoke(name, value, wait=seconds, dedupe_key=key)
    reply = answer(result, waited=seconds is not None)
    return JSONResponse(reply.body, status_code=reply.status, headers=reply.headers)


TasksLimit = Annotated[
    int | None,
    Query(ge=1, le=1000, description="Task runs in this answer (default 500); then page on."),
]


@router.get(
    "/executions/{execution_id}", response_model=models.Execution, responses=errors(404, 422)
)
async def get_execution(
    services: ServicesDep,
    token: TokenDep,
    execution_id: ExecutionId,
    tasks_limit: TasksLimit = None,
) -> Any:
    """One execution and its first task runs, in the order they started (the rest: GET
    `/executions/{id}/tasks?cursor=` with `tasks_next_cursor`)."""
    record = await readable_execution(services, token, execution_id)
    limit = min(tasks_limit or services.settings.task_page, services.settings.max_list_limit)
    runs, next_cursor = await task_run_page(services, execution_id, after=0, limit=limit)
    count = (
        len(runs)
        if next_cursor is None
        else await blocking(services.store.count_task_runs, execution_id)
    )
    return execution_json(record, runs, task_count=count, tasks_next_cursor=next_cursor)


async def readable_execution(
    services: ServicesDep, token: TokenDep, execution_id: ExecutionId
) -> ExecutionRecord:
    """The execution, if the token may see it: another app's is not found."""
    record = await blocking(services.store.get_execution, execution_id)
    if record is None or not in_token_scope(token, record.app):
        raise NotFound(f"no execution {execution_id}")
    return record


async def task_run_page(
    services: ServicesDep, execution_id: str, *, after: int, limit: int
) -> tuple[list[TaskRunRecord], str | None]:
    """Up to ``limit`` runs after id ``after``, and the cursor of the next page (the
    last id served) when there are more."""
    runs = await blocking(services.store.task_runs, execution_id, after=after, limit=limit + 1)
    if len(runs) <= limit:
        return runs, None
    return runs[:limit], str(runs[limit - 1].id)


@router.get("/executions", response_model=models.ExecutionPage, responses=errors(422))
async def list_executions(
    services: ServicesDep,
    token: TokenDep,
    app: Annotated[str | None, Query(max_length=63, description="Only this app's.")] = None,
    status: Annotated[Status | None, Query(description="Only those with this status.")] = None,
    started_after: Moment = None,
    started_before: Moment = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: Annotated[str | None, Query(max_length=500, description="`next_cursor`")] = None,
    id_prefix: Annotated[
        str | None,
        Query(
            pattern=r"^[0-9A-Za-z_-]{1,64}$",
            description="Only executions whose id starts with this (a short id).",
        ),
    ] = None,
    input_contains: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="Only executions whose input, as JSON text, holds this (A-Z in any case).",
        ),
    ] = None,
) -> Any:
    """Executions, newest first, a page at a time (without their task runs)."""
    if cursor is not None:
        _check_cursor(cursor)
    app = _app_in_scope(token, app)
    where = ExecutionFilter(
        app=app,
        status=status,
        started_after=_epoch("started_after", started_after),
        started_before=_epoch("started_before", started_before),
        id_prefix=id_prefix,
        input_contains=input_contains,
    )
    limit = min(limit, services.settings.max_list_limit)
    page = await blocking(services.store.list_executions, where, limit=limit, cursor=cursor)
    items = [execution_json(record) for record in page.items]
    return {"items": items, "next_cursor": page.next_cursor}


def _app_in_scope(token: TokenRecord, app: str | None) -> str | None:
    """The app to list for a token limited to apps: the one it names, or its only one."""
    if not token.apps or app in token.apps:
        return app
    if app is None and len(token.apps) == 1:
        return token.apps[0]
    listed = ", ".join(token.apps)
    if app is not None:
        raise HTTPException(403, f"this token is limited to apps ({listed}), not {app}")
    raise BadParameter("app", f"this token is limited to apps ({listed}): name one of them")


async def execution_in_scope(
    services: ServicesDep, token: TokenDep, execution_id: ExecutionId
) -> None:
    """For the control routes: an execution of an app outside the token's is not found."""
    if token.apps:
        record = await blocking(services.store.get_execution, execution_id)
        if record is None or record.app not in token.apps:
            raise NotFound(f"no execution {execution_id}")


def _check_cursor(cursor: str) -> None:
    try:
        decode_cursor(cursor)
    except ValueError:
        raise BadParameter("cursor", "not a cursor this server gave out") from None


def _epoch(name: str, text: str | None) -> float | None:
    """An ISO 8601 date-time (UTC unless it names a zone) as seconds since the epoch."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadParameter(name, "not an ISO 8601 date-time such as 2024-05-01T12:00:00Z") from None
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.timestamp()
