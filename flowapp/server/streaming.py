"""Deploys as a stream of progress: ``application/x-ndjson``, one JSON object a line.

    {"progress": "revision hello-00002: building and starting functions"}
    ...
    {"deploy": {...}}                      on success, or
    {"error": {...problem...}}             on failure (an RFC 7807 problem)

The deploy runs as a task that feeds a queue through the platform's ``progress``
callback; the response drains the queue until the task ends, then writes its outcome.
The HTTP status (200) is sent before the outcome is known, which is why the outcome is
in the last line. A client that goes away does not cancel the deploy: stopping half way
would leave a revision half started, so the task runs on (kept in ``background``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.responses import StreamingResponse

from flowapp.server.platform import DeployView, PlatformError, Progress
from flowapp.server.problems import GENERIC_DETAIL, json_bytes, problem_json
from flowapp.server.views import deploy_json

log = logging.getLogger(__name__)

NDJSON = "application/x-ndjson"
DeployRun = Callable[[Progress | None], Awaitable[DeployView]]


def ndjson_line(value: Any) -> bytes:
    return json_bytes(value) + b"\n"


def stream_deploy(
    run: DeployRun, *, instance: str, background: set[asyncio.Task[Any]]
) -> StreamingResponse:
    return StreamingResponse(_lines(run, instance, background), media_type=NDJSON)


async def _lines(
    run: DeployRun, instance: str, background: set[asyncio.Task[Any]]
) -> AsyncIterator[bytes]:
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    task = asyncio.ensure_future(run(queue.put_nowait))
    background.add(task)
    task.add_done_callback(background.discard)
    task.add_done_callback(lambda _: queue.put_nowait(None))
    while (message := await queue.get()) is not None:
        yield ndjson_line({"progress": message})
    yield ndjson_line(outcome(task, instance))


def outcome(task: asyncio.Future[DeployView], instance: str) -> dict[str, Any]:
    """The last line: the deploy, or the problem that ended it."""
    error = task.exception()
    if error is None:
        return {"deploy": deploy_json(task.result())}
    if isinstance(error, PlatformError):
        problem = problem_json(
            error.status,
            error.detail,
            instance=instance,
            title=error.title,
            problems=error.problems,
        )
        return {"error": problem}
    log.error("deploy at %s failed", instance, exc_info=error)
    return {"error": problem_json(500, GENERIC_DETAIL, instance=instance)}
