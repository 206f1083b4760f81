"""What a run view reads of one execution besides the execution itself: its task runs a
page at a time, the workflow it runs (from its own revision, which may not be the app's
current one), the sub-workflows it started, and a live stream of its changes.

Each route first checks that the token may see the execution (``readable_execution``):
an execution of an app outside a limited token's is not found, stream included.

The stream is Server-Sent Events (``text/event-stream``) over a plain GET with the usual
``Authorization`` header: a browser reads it with ``fetch`` and a stream reader (the
``EventSource`` API cannot send headers, and a token never goes in a URL). Events:

    event: tasks       data: {"items": [task run, ...]}   new or changed runs, by id
    event: execution   data: {execution}                   its row changed (no tasks)
    event: end         data: {"status": ...}               it has ended; the stream closes

The stream also ends when the server stops or after ``stream_max_seconds``; a client
whose execution has not ended connects again with ``after`` = the newest run id it holds
whose predecessors have all ended (or simply reads everything again with ``after=0``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.sse import EventSourceResponse, ServerSentEvent

from flowapp.server import models
from flowapp.server.auth import TokenDep
from flowapp.server.deps import Services, ServicesDep, blocking
from flowapp.server.openapi import errors
from flowapp.server.params import ExecutionId
from flowapp.server.platform import NotFound
from flowapp.server.problems import json_bytes
from flowapp.server.routes.executions import readable_execution, task_run_page
from flowapp.server.run_watch import RunWatch
from flowapp.server.views import execution_json, task_run_json, workflow_json
from flowapp.store.port import ExecutionFilter, ExecutionRecord, TaskRunRecord

router = APIRouter(prefix="/api/v1/executions/{execution_id}", tags=["executions"])

# Checked before the response starts: a stream cannot turn into a 404 half way.
Readable = Annotated[ExecutionRecord, Depends(readable_execution)]
EVENT_BATCH = 500  # task runs per ``tasks`` event
CHILDREN_LIMIT = 1000
Cursor = Annotated[
    str | None,
    Query(pattern=r"^[0-9]{1,15}$", description="`tasks_next_cursor` or `next_cursor`."),
]
After = Annotated[
    int,
    Query(ge=0, le=10**15, description="Only task runs with a higher id (0: all of them)."),
]


@router.get("/tasks", response_model=models.TaskRunPage, responses=errors(404, 422))
async def task_runs(
    services: ServicesDep,
    token: TokenDep,
    execution_id: ExecutionId,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> Any:
    """The execution's task runs, a page at a time, in the order they started."""
    await readable_execution(services, token, execution_id)
    after = int(cursor) if cursor is not None else 0
    limit = min(limit, services.settings.max_list_limit)
    runs, next_cursor = await task_run_page(services, execution_id, after=after, limit=limit)
    return {"items": [task_run_json(run) for run in runs], "next_cursor": next_cursor}


@router.get("/workflow", response_model=models.ExecutionWorkflow, responses=errors(404, 422))
async def execution_workflow(
    services: ServicesDep, token: TokenDep, execution_id: ExecutionId
) -> Any:
    """The workflow the execution runs, as deployed on its revision: its task runs'
    references are JSON Pointers into ``document``."""
    record = await readable_execution(services, token, execution_id)
    workflow = await blocking(services.store.get_workflow, record.workflow_id)
    if workflow is None:
        raise NotFound(f"the workflow of execution {execution_id} is not kept")
    return workflow_json(workflow, execution_id)


@router.get("/children", response_model=models.SubWorkflowList, responses=errors(404, 422))
async def sub_workflows(services: ServicesDep, token: TokenDep, execution_id: ExecutionId) -> Any:
    """The executions this one started with `run: workflow`, oldest first, each with
    its workflow's name (the run view matches them to the tasks that started them)."""
    record = await readable_execution(services, token, execution_id)
    return {"items": await blocking(_children, services, record)}


def _children(services: Services, parent: ExecutionRecord) -> list[dict[str, Any]]:
    # Sub-workflows start while their parent runs: the listing reads the parent's
    # lifetime of the newest-first index, not the whole table.
    where = ExecutionFilter(
        parent_id=parent.id,
        started_after=parent.created_at,
        started_before=None if parent.ended_at is None else parent.ended_at + 1.0,
    )
    page = services.store.list_executions(where, limit=CHILDREN_LIMIT)
    names: dict[str, dict[str, str]] = {}
    items = []
    for child in reversed(page.items):
        if child.workflow_id not in names:
            workflow = services.store.get_workflow(child.workflow_id)
            names[child.workflow_id] = _workflow_name(workflow)
        items.append({**execution_json(child), "workflow": names[child.workflow_id]})
    return items


def _workflow_name(workflow: Any) -> dict[str, str]:
    if workflow is None:
        return {"namespace": "", "name": "", "version": ""}
    return {"namespace": workflow.namespace, "name": workflow.name, "version": workflow.version}


@router.get(
    "/stream",
    response_class=EventSourceResponse,
    responses={
        **errors(404, 422),
        200: {"description": "Server-Sent Events: `tasks`, `execution`, `end`."},
    },
)
async def stream(
    services: ServicesDep,
    record: Readable,
    after: After = 0,
) -> AsyncIterator[ServerSentEvent]:
    """The execution's changes as they happen (Server-Sent Events): the task runs after
    `after` at once, then every run that starts or changes and the execution whenever
    it changes, until it ends."""
    execution_id = record.id
    watch = RunWatch(execution_id, after=after)
    settings = services.settings
    deadline = asyncio.get_running_loop().time() + settings.stream_max_seconds
    while True:
        poll = await blocking(watch.poll, services.store)
        for event in _events(poll.runs, poll.record if poll.changed else None):
            yield event
        if poll.final:
            status = poll.record.status if poll.record is not None else "deleted"
            yield ServerSentEvent(event="end", raw_data=_text({"status": status}))
            return
        if asyncio.get_running_loop().time() >= deadline or await _stopped(services):
            return


def _events(runs: list[TaskRunRecord], record: ExecutionRecord | None) -> list[ServerSentEvent]:
    events = [
        ServerSentEvent(
            event="tasks",
            raw_data=_text({"items": [task_run_json(run) for run in runs[at : at + EVENT_BATCH]]}),
        )
        for at in range(0, len(runs), EVENT_BATCH)
    ]
    if record is not None:
        events.append(ServerSentEvent(event="execution", raw_data=_text(execution_json(record))))
    return events


async def _stopped(services: Services) -> bool:
    """Wait one poll interval; True if the server began to stop meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(services.stopping.wait(), services.settings.stream_poll_seconds)
    return services.stopping.is_set()


def _text(value: Any) -> str:
    return json_bytes(value).decode("utf-8")
