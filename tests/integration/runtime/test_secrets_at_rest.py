"""Resolved credentials never reach the database: calls authenticated with secrets
(bearer, basic, OAuth2 client settings, a secret in a header and a query, the spec's
``input.from: $secrets`` pattern) are in flight while the SQLite files (database, WAL)
are searched for every secret value and every credential derived from one; then the
process stops mid-flight and a new one carries the calls out again, with the references
of the saved commands resolved at dispatch."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from aiohttp import web

from flowapp.dsl.source import parse_text
from flowapp.dsl.validate import ensure_valid
from flowapp.engine.scope import Environment
from flowapp.runtime.dispatch import Effects
from flowapp.runtime.registry import WorkflowRegistry
from flowapp.runtime.runtime import Runtime
from flowapp.store import open_store
from flowapp.store.port import Store

TOKEN = "tok-Q29uZmlkZW50aWFs-1"
PASSWORD = "pw-c2VjcmV0cGFzcw-2"
CLIENT_SECRET = "cs-Y2xpZW50c2VjcmV0-3"
ACCESS_TOKEN = "at-YWNjZXNzdG9rZW4-4"
BASIC = base64.b64encode(f"ada:{PASSWORD}".encode()).decode()
SECRETS = {
    "token": TOKEN,
    "petStore": {"username": "ada", "password": PASSWORD},
    "client": {"id": "runtime", "secret": CLIENT_SECRET},
}
NEEDLES = (TOKEN, PASSWORD, CLIENT_SECRET, ACCESS_TOKEN, BASIC)

WORKFLOW = """
document: {dsl: '1.0.3', namespace: test, name: at-rest, version: '1.0.0'}
use:
  secrets: [token, petStore, client]
  authentications:
    petStoreBasic: {basic: {use: petStore}}
do:
  - together:
      fork:
        branches:
          - bearer:
              call: http
              with:
                method: get
                endpoint:
                  uri: BASE/bearer
                  authentication: {bearer: {token: '${ $secrets.token }'}}
          - basic:
              call: http
              with:
                method: get
                endpoint: {uri: BASE/basic, authentication: {use: petStoreBasic}}
          - oauth2:
              call: http
              with:
                method: get
                endpoint:
                  uri: BASE/oauth
                  authentication:
                    oauth2:
                      authority: BASE/realm
                      grant: client_credentials
                      client:
                        id: '${ $secrets.client.id }'
                        secret: '${ $secrets.client.secret }'
          - inHeaderAndQuery:
              input:
                from: '${ {key: $secrets.token} }'
              call: http
              with:
                method: get
                endpoint: BASE/keyed
                headers: {X-Api-Key: '${ .key }'}
                query: {key: '${ .key }'}
"""


@dataclass
class Guarded:
    """Resources that check the credentials they get, and answer once released."""

    base: str = ""
    release: asyncio.Event = field(default_factory=asyncio.Event)
    waiting: set[str] = field(default_factory=set)
    refused: list[str] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/realm/oauth2/token", self.token)
        for name in ("bearer", "basic", "oauth", "keyed"):
            app.router.add_get(f"/{name}", self.resource)
        return app

    async def token(self, request: web.Request) -> web.Response:
        fields = parse_qs(await request.text())
        if fields.get("client_secret") != [CLIENT_SECRET]:
            return web.json_response({"error": "invalid_client"}, status=401)
        return web.json_response({"access_token": ACCESS_TOKEN, "expires_in": 600})

    async def resource(self, request: web.Request) -> web.Response:
        name = request.path.strip("/")
        expected = {
            "bearer": ("Authorization", f"Bearer {TOKEN}"),
            "basic": ("Authorization", f"Basic {BASIC}"),
            "oauth": ("Authorization", f"Bearer {ACCESS_TOKEN}"),
            "keyed": ("X-Api-Key", TOKEN),
        }[name]
        if request.headers.get(expected[0]) != expected[1] or (
            name == "keyed" and request.query.get("key") != TOKEN
        ):
            self.refused.append(name)
            return web.json_response({"error": "bad credentials"}, status=401)
        self.waiting.add(name)
        await self.release.wait()
        return web.json_response({"ok": name})


@pytest.fixture
async def guarded() -> AsyncIterator[Guarded]:
    server = Guarded()
    runner = web.AppRunner(server.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    yield server
    server.release.set()
    await runner.cleanup()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'flowapp.db'}")
    opened.migrate()
    yield opened
    opened.close()


def holding(folder: Path) -> dict[str, list[str]]:
    """Which secret values (or derived credentials) each file holds."""
    found: dict[str, list[str]] = {}
    for path in folder.iterdir():
        content = path.read_bytes()
        hits = [needle for needle in NEEDLES if needle.encode() in content]
        if hits:
            found[path.name] = hits
    return found


async def wait_until(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_no_credential_reaches_the_database_in_flight_after_a_restart_or_at_the_end(
    tmp_path: Path, store: Store, guarded: Guarded
) -> None:
    document = ensure_valid(parse_text(WORKFLOW.replace("BASE", guarded.base))).data
    workflow = WorkflowRegistry(store).add(document)
    env = Environment(secrets=SECRETS)
    first = Runtime(store, env=env)
    await first.start()
    execution_id = await first.start_execution(workflow, {})
    await wait_until(lambda: len(guarded.waiting) == 4)
    assert guarded.refused == []
    assert holding(tmp_path) == {}  # four calls in flight, their commands saved

    await first.stop()  # the process goes away mid-flight
    guarded.waiting.clear()
    second = Runtime(store, env=env, registry=WorkflowRegistry(store))
    await second.start()
    try:
        # The saved commands are carried out again, credentials resolved at dispatch.
        await wait_until(lambda: len(guarded.waiting) == 4)
        assert guarded.refused == []
        guarded.release.set()
        outcome = await second.wait_for(execution_id, timeout=20)
    finally:
        await second.stop()
    assert outcome.status == "completed", outcome.error
    assert holding(tmp_path) == {}
    runs = {run.name: run for run in store.task_runs(execution_id)}
    # The spec's input.from pattern puts the secret in the task's input: recorded masked.
    assert runs["inHeaderAndQuery"].input == {"key": "********"}


EMITS = """
document: {dsl: '1.0.3', namespace: test, name: emits, version: '1.0.0'}
use: {secrets: [token]}
do:
  - tell:
      emit:
        event:
          with:
            source: https://flowapp.test
            type: test.keyed
            data: {key: '${ $secrets.token }'}
  - done: {set: {told: true}}
"""


async def test_an_emitted_event_leaves_the_outbox_with_the_secret_and_the_database_without(
    tmp_path: Path, store: Store
) -> None:
    published: list[dict[str, object]] = []

    async def publish(event: dict[str, object]) -> None:
        published.append(event)

    workflow = WorkflowRegistry(store).add(ensure_valid(parse_text(EMITS)).data)
    runtime = Runtime(store, env=Environment(secrets=SECRETS), effects=Effects(publish=publish))
    await runtime.start()
    try:
        outcome = await runtime.wait_for(await runtime.start_execution(workflow, {}), timeout=10)
        await wait_until(lambda: len(published) == 1)
    finally:
        await runtime.stop()
    assert outcome.status == "completed" and outcome.output == {"told": True}
    assert published[0]["data"] == {"key": TOKEN}
    assert holding(tmp_path) == {}


async def test_a_saved_call_whose_secret_is_gone_faults_with_403_instead_of_being_sent(
    tmp_path: Path, store: Store, guarded: Guarded
) -> None:
    document = ensure_valid(parse_text(WORKFLOW.replace("BASE", guarded.base))).data
    workflow = WorkflowRegistry(store).add(document)
    first = Runtime(store, env=Environment(secrets=SECRETS))
    await first.start()
    execution_id = await first.start_execution(workflow, {})
    await wait_until(lambda: len(guarded.waiting) == 4)
    await first.stop()
    guarded.waiting.clear()
    without_token = {k: v for k, v in SECRETS.items() if k != "token"}
    second = Runtime(store, env=Environment(secrets=without_token))
    await second.start()
    try:
        outcome = await second.wait_for(execution_id, timeout=20)
    finally:
        await second.stop()
    assert outcome.status == "faulted"
    assert outcome.error["status"] == 403  # type: ignore[index]
    assert "`token`" in outcome.error["detail"]  # type: ignore[index]
    assert not {"bearer", "keyed"} & guarded.waiting  # never sent with a masked credential
