"""A host's life: concurrency of async handlers, graceful shutdown on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.integration.functions.conftest import ECHO, RUNTIMES

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "functions"
CE = {
    "ce-specversion": "1.0",
    "ce-id": "e1/do/0/step/1",
    "ce-source": "/flowapp/shop/echo",
    "ce-type": "dev.flowapp.function.invoked",
    "content-type": "application/json",
}


@pytest.mark.timeout(600)  # a first Go build with an empty cache compiles std packages
@pytest.mark.parametrize("runtime", RUNTIMES)
async def test_sigterm_finishes_the_call_in_flight_then_exits_0(
    runtime: str, start_host: Any
) -> None:
    host = await start_host(runtime, ECHO[runtime])
    slow = asyncio.create_task(host.post(b'{"sleep": 0.6}', CE))
    await asyncio.sleep(0.3)  # the call is in the handler now

    host.process.send_signal(signal.SIGTERM)

    status, _, body = await slow
    assert status == 200
    assert orjson.loads(body)["echo"] == {"sleep": 0.6}
    assert await asyncio.wait_for(host.process.wait(), 5) == 0


async def test_python_async_handler(start_host: Any) -> None:
    served = await start_host("python", FIXTURES / "echo_async")

    calls = [served.post(orjson.dumps({"sleep": 0.3, "n": n}), CE) for n in range(5)]
    started = asyncio.get_running_loop().time()
    replies = await asyncio.gather(*calls)
    elapsed = asyncio.get_running_loop().time() - started

    assert [orjson.loads(body)["echo"]["n"] for _, _, body in replies] == list(range(5))
    assert elapsed < 1.2  # concurrent on the event loop, not one after the other
