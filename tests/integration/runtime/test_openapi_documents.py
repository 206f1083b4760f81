"""OpenAPI documents fetched by ``call: openapi`` come from outside services, so they are
read under the limits of a request's documents: a body over 1 MiB is refused before the
rest arrives, YAML is parsed by the limited reader in a worker thread (an alias bomb is
refused at once), JSON nested past the limit is refused; a usable document still works.
Real HTTP servers on 127.0.0.1, the real runtime."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from flowapp.dsl.source import parse_text
from flowapp.dsl.validate import ensure_valid
from flowapp.runtime.dispatch import Effects
from flowapp.runtime.effects.http import HttpEffects
from flowapp.runtime.embedded import run_to_completion
from flowapp.runtime.registry import WorkflowRegistry
from flowapp.store.memory import MemoryStore

PETS = """\
openapi: 3.0.0
info: {title: pets, version: '1'}
servers: [{url: BASE}]
paths:
  /pets/{id}:
    get:
      operationId: getPet
      parameters: [{name: id, in: path, required: true}]
"""
# Nine levels of nine aliases: 387 million strings once expanded, in 430 bytes.
BOMB = "openapi: 3.0.0\na: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)
MiB = 1 << 20


@dataclass
class DocumentServer:
    """Serves ``/doc`` as set in ``body``; ``/pets/{id}`` answers; ``/endless`` streams
    without end, counting what it managed to send."""

    base: str = ""
    body: bytes = b""
    content_type: str = "application/yaml"
    sent: int = 0
    pets: list[str] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/doc", self.doc)
        app.router.add_get("/endless", self.endless)
        app.router.add_get("/declared", self.declared)
        app.router.add_get("/pets/{id}", self.pet)
        return app

    async def doc(self, request: web.Request) -> web.Response:
        return web.Response(body=self.body, content_type=self.content_type)

    async def endless(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        chunk = b" " * (1 << 16)
        try:
            while self.sent < 64 * MiB:
                await response.write(chunk)
                self.sent += len(chunk)
        except (ConnectionError, RuntimeError):
            pass  # the client hung up: what we wanted
        return response

    async def declared(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": str(50 * MiB)})
        await response.prepare(request)
        await response.write(b"{")
        self.sent += 1
        return response

    async def pet(self, request: web.Request) -> web.Response:
        self.pets.append(request.match_info["id"])
        return web.json_response({"id": request.match_info["id"], "name": "rex"})


@pytest.fixture
async def server() -> AsyncIterator[DocumentServer]:
    served = DocumentServer()
    runner = web.AppRunner(served.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    served.base = f"http://127.0.0.1:{port}"
    yield served
    await runner.cleanup()


def workflow(document_url: str) -> str:
    return f"""
document: {{dsl: '1.0.3', namespace: test, name: openapi, version: '1.0.0'}}
do:
  - pet:
      call: openapi
      with:
        document: {{endpoint: '{document_url}'}}
        operationId: getPet
        parameters: {{id: '7'}}
"""


async def run(text: str) -> Any:
    store = MemoryStore()
    registry = WorkflowRegistry(store)
    definition = registry.add(ensure_valid(parse_text(text)).data)
    effects = Effects(http=HttpEffects())
    _, outcome = await run_to_completion(
        store, registry, definition, {}, effects=effects, timeout=60
    )
    return outcome


def refusal(outcome: Any) -> str:
    assert outcome.status == "faulted", outcome
    error = outcome.error
    assert error["type"].endswith("/communication") and error["status"] == 502, error
    assert error["instance"] == "/do/0/pet"
    return str(error["detail"])


async def test_a_usable_yaml_document_still_serves_its_operations(server: DocumentServer) -> None:
    server.body = PETS.replace("BASE", server.base).encode()
    outcome = await run(workflow(f"{server.base}/doc"))
    assert outcome.status == "completed", outcome
    assert outcome.output == {"id": "7", "name": "rex"}
    assert server.pets == ["7"]


async def test_an_alias_bomb_is_refused_at_once(server: DocumentServer) -> None:
    server.body = BOMB.encode()
    assert len(server.body) < 500
    started = time.monotonic()
    detail = refusal(await run(workflow(f"{server.base}/doc")))
    assert "more than 100,000 values" in detail and "/doc" in detail
    assert time.monotonic() - started < 10
    assert server.pets == []


async def test_a_body_without_end_is_cut_at_the_limit(server: DocumentServer) -> None:
    detail = refusal(await run(workflow(f"{server.base}/endless")))
    assert "over the limit of 1,048,576" in detail
    await asyncio.sleep(0.2)  # the server notices the hang-up
    assert server.sent < 16 * MiB  # not read to its 64 MiB end


async def test_a_declared_length_over_the_limit_is_refused_before_the_body(
    server: DocumentServer,
) -> None:
    detail = refusal(await run(workflow(f"{server.base}/declared")))
    assert f"{50 * MiB:,} bytes (Content-Length)" in detail


async def test_json_nested_past_the_limit_is_refused(server: DocumentServer) -> None:
    server.content_type = "application/json"
    server.body = b'{"openapi": "3.0.0", "x": ' + b"[" * 500 + b"]" * 500 + b"}"
    detail = refusal(await run(workflow(f"{server.base}/doc")))
    assert "nested deeper than 64 levels" in detail


async def test_a_large_yaml_document_is_parsed_off_the_event_loop(
    server: DocumentServer,
) -> None:
    """About 10,000 values of YAML take the pure-Python reader a second or more; the
    loop goes on ticking meanwhile (on the loop, it would not tick at all)."""
    paths = "".join(
        f"  /p{i}:\n    get: {{operationId: op{i}, tags: [a, b], summary: s{i}}}\n"
        for i in range(1500)
    )
    server.body = (PETS.replace("BASE", server.base) + paths).encode()
    assert server.body.count(b"\n") > 3000 and len(server.body) < MiB
    ticks: list[float] = []

    async def tick() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(tick())
    started = time.monotonic()
    outcome = await run(workflow(f"{server.base}/doc"))
    took = time.monotonic() - started
    ticker.cancel()
    assert outcome.status == "completed", outcome
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    print(f"fetch + parse {took:.2f} s: {len(ticks)} ticks, longest gap {max(gaps):.3f} s")
    assert took > 0.3  # a parse long enough for the ticks to tell
    assert max(gaps) < took / 2
