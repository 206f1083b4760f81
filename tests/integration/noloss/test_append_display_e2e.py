"""The design's scenario end to end, on real processes: a message published to a NATS
subject (JetStream) starts ``examples/append-display`` under ``flowapp up``; the appended
text reaches the Node ``display`` function's log, and the execution is recorded with both
task runs, their inputs and outputs.

The example is copied into tmp with its ``orders`` trigger pointed at this test's own
stream and subject (its cron and http triggers stay as they are).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import nats
import nats.js.errors
import orjson
import pytest

from tests.integration.noloss.brokers import NATS_URL, unique
from tests.integration.noloss.launcher import FlowappUp, list_executions
from tests.integration.noloss.projects import APPEND_DISPLAY, project

APP = "append-display"


@pytest.fixture
async def orders() -> AsyncIterator[dict[str, str]]:
    """A stream and subject of this test's own, deleted afterwards."""
    u = unique()
    names = {"subject": f"e2e.orders.{u}", "stream": f"E2E_{u}"}
    names |= {"dl_subject": f"e2e.dead.{u}", "dl_stream": f"E2E_DL_{u}"}
    yield names
    connection = await nats.connect(NATS_URL)
    for stream in (names["stream"], names["dl_stream"]):
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await connection.jetstream().delete_stream(stream)
    await connection.close()


async def publish(subject: str, data: dict[str, Any], message_id: str) -> None:
    connection = await nats.connect(NATS_URL)
    try:
        js = connection.jetstream()
        await js.publish(subject, orjson.dumps(data), headers={"Nats-Msg-Id": message_id})
    finally:
        await connection.close()


async def eventually(read: Callable[[], Any], *, timeout: float = 30) -> Any:
    """The first truthy value of ``await read()`` within ``timeout``."""
    deadline = time.monotonic() + timeout
    while not (value := await read()):
        assert time.monotonic() < deadline, f"nothing after {timeout}s"
        await asyncio.sleep(0.1)
    return value


@pytest.mark.timeout(90)
async def test_a_nats_message_runs_append_display_end_to_end(
    orders: dict[str, str], launch: Callable[[Path], FlowappUp], tmp_path: Path
) -> None:
    trigger = {
        "name": "orders",
        "nats": {"url": NATS_URL, "subject": orders["subject"], "stream": orders["stream"]},
        "deadLetter": {"subject": orders["dl_subject"], "stream": orders["dl_stream"]},
    }
    up = launch(project(APPEND_DISPLAY, tmp_path / "app", trigger))
    up.start()
    up.wait_healthy()
    text = f"order {unique()} placed"

    async with up.client() as client:
        # The trigger creates the stream; publish once it exists, so nothing is refused.
        await eventually(lambda: _stream_exists(orders["stream"]))
        await publish(orders["subject"], {"message": text}, message_id=f"e2e-{text}")
        execution = await eventually(lambda: _completed(client))
        executions = await list_executions(client, APP)
        recorded = (await client.get(f"/api/v1/executions/{execution['id']}")).json()
        lines = await eventually(lambda: _display_lines(client, execution["id"]))
    up.stop()

    assert [e["id"] for e in executions] == [execution["id"]], "one message, one execution"
    assert recorded["input"] == {"message": text}
    assert recorded["output"] == {"displayed": text + "!"}
    append, display = recorded["tasks"]
    assert (append["name"], append["status"]) == ("append", "completed")
    assert append["input"] == {"message": text}
    assert append["output"] == {"message": text + "!"}
    assert (display["name"], display["status"]) == ("display", "completed")
    assert display["input"] == {"message": text + "!"}
    assert display["output"] == {"displayed": text + "!"}
    assert any(f"display: {text}!" in line["message"] for line in lines), lines


async def _stream_exists(stream: str) -> bool:
    connection = await nats.connect(NATS_URL)
    try:
        await connection.jetstream().stream_info(stream)
    except nats.js.errors.NotFoundError:
        return False
    finally:
        await connection.close()
    return True


async def _completed(client: httpx.AsyncClient) -> dict[str, Any] | None:
    done = [e for e in await list_executions(client, APP) if e["status"] == "completed"]
    return done[0] if done else None


async def _display_lines(client: httpx.AsyncClient, execution_id: str) -> list[dict[str, Any]]:
    params: dict[str, str | int] = {"function": "display", "limit": 1000}
    response = await client.get(f"/api/v1/apps/{APP}/logs", params=params)
    response.raise_for_status()
    return [line for line in response.json()["items"] if line["execution_id"] == execution_id]
