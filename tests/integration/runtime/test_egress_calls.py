"""Workflows' outbound calls under the egress policy, against real servers on 127.0.0.1:
refused addresses (in the URL, behind a name, behind a redirect, an OAuth authority, an
OpenAPI document) fault the task with a clear problem before any byte reaches them; the
allow list admits them; ``redirect: false`` answers the 3xx itself, ``redirect: true``
follows, and credentials are not sent to another origin."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from flowapp.dsl.source import parse_text
from flowapp.dsl.validate import ensure_valid
from flowapp.runtime.dispatch import Effects
from flowapp.runtime.effects.http import HttpEffects
from flowapp.runtime.egress import EgressPolicy
from flowapp.runtime.embedded import run_to_completion
from flowapp.runtime.registry import WorkflowRegistry
from flowapp.store.memory import MemoryStore


@dataclass
class Service:
    """A service on 127.0.0.1 that records every request it gets."""

    base: str = ""
    port: int = 0
    seen: list[dict[str, Any]] = field(default_factory=list)
    redirect_to: str = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/data", self.data)
        app.router.add_get("/redirect", self.redirect)
        app.router.add_get("/openapi.json", self.openapi)
        app.router.add_post("/oauth2/token", self.token)
        return app

    async def data(self, request: web.Request) -> web.Response:
        self.seen.append({"path": "/data", "authorization": request.headers.get("Authorization")})
        return web.json_response({"from": self.port})

    async def redirect(self, request: web.Request) -> web.Response:
        self.seen.append({"path": "/redirect"})
        raise web.HTTPFound(self.redirect_to)

    async def openapi(self, request: web.Request) -> web.Response:
        self.seen.append({"path": "/openapi.json"})
        return web.json_response({"openapi": "3.0.0", "servers": [{"url": self.base}]})

    async def token(self, request: web.Request) -> web.Response:
        self.seen.append({"path": "/oauth2/token"})
        return web.json_response({"access_token": "t", "expires_in": 600})


async def serve(service: Service) -> web.AppRunner:
    runner = web.AppRunner(service.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    service.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    service.base = f"http://127.0.0.1:{service.port}"
    return runner


@pytest.fixture
async def services() -> AsyncIterator[tuple[Service, Service]]:
    first, second = Service(), Service()
    runners = [await serve(first), await serve(second)]
    yield first, second
    for runner in runners:
        await runner.cleanup()


def call(uri: str, **more: Any) -> str:
    extra = "".join(f"\n        {k}: {v}" for k, v in more.items())
    return f"""
document: {{dsl: '1.0.3', namespace: test, name: egress, version: '1.0.0'}}
do:
  - get:
      call: http
      with:
        method: get
        endpoint: '{uri}'{extra}
"""


async def run(text: str, policy: EgressPolicy) -> Any:
    store = MemoryStore()
    registry = WorkflowRegistry(store)
    workflow = registry.add(ensure_valid(parse_text(text)).data)
    effects = Effects(http=HttpEffects(policy=policy))
    _, outcome = await run_to_completion(store, registry, workflow, {}, effects=effects, timeout=20)
    return outcome


def assert_refused(outcome: Any, *words: str) -> None:
    assert outcome.status == "faulted", outcome
    error = outcome.error
    assert error["type"].endswith("/authorization") and error["status"] == 403
    assert error["title"] == "Egress Refused" and error["instance"] == "/do/0/get"
    for word in words:
        assert word in error["detail"], error["detail"]


ENFORCED = EgressPolicy.enforcing()


async def test_a_loopback_service_is_refused_and_never_reached(
    services: tuple[Service, Service],
) -> None:
    target, _ = services
    outcome = await run(call(f"{target.base}/data"), ENFORCED)
    assert_refused(outcome, "127.0.0.1", "loopback", "--allow-egress")
    assert target.seen == []


async def test_a_name_that_resolves_to_loopback_is_refused(
    services: tuple[Service, Service],
) -> None:
    target, _ = services
    outcome = await run(call(f"http://localhost:{target.port}/data"), ENFORCED)
    assert_refused(outcome, "localhost (127.0.0.1)", "loopback")
    assert target.seen == []


async def test_the_cloud_metadata_address_is_refused() -> None:
    outcome = await run(call("http://169.254.169.254/latest/meta-data/"), ENFORCED)
    assert_refused(outcome, "169.254.169.254", "cloud metadata")


async def test_a_redirect_to_a_refused_address_is_refused_at_that_hop(
    services: tuple[Service, Service],
) -> None:
    redirector, target = services
    for location in (f"{target.base}/data", f"http://localhost:{target.port}/data"):
        redirector.redirect_to = location
        allowed = EgressPolicy.enforcing([f"127.0.0.1:{redirector.port}"])
        outcome = await run(call(f"{redirector.base}/redirect", redirect="true"), allowed)
        assert_refused(outcome, str(target.port), "loopback")
    assert len(redirector.seen) == 2 and target.seen == []


async def test_the_allow_list_admits_what_it_names(services: tuple[Service, Service]) -> None:
    target, _ = services
    for entry in ("127.0.0.1", "127.0.0.0/8", f"127.0.0.1:{target.port}"):
        outcome = await run(call(f"{target.base}/data"), EgressPolicy.enforcing([entry]))
        assert outcome.status == "completed" and outcome.output == {"from": target.port}
    by_name = EgressPolicy.enforcing([f"localhost:{target.port}"])
    outcome = await run(call(f"http://localhost:{target.port}/data"), by_name)
    assert outcome.status == "completed", outcome.error


async def test_redirect_false_answers_the_3xx_and_follows_nothing(
    services: tuple[Service, Service],
) -> None:
    redirector, target = services
    redirector.redirect_to = f"{target.base}/data"
    outcome = await run(call(f"{redirector.base}/redirect"), EgressPolicy())
    assert outcome.status == "faulted"
    assert outcome.error["status"] == 302 and outcome.error["type"].endswith("/communication")
    assert target.seen == []

    followed = await run(call(f"{redirector.base}/redirect", redirect="true"), EgressPolicy())
    assert followed.status == "completed" and followed.output == {"from": target.port}


async def test_credentials_are_not_sent_to_another_origin_on_a_redirect(
    services: tuple[Service, Service],
) -> None:
    redirector, target = services
    redirector.redirect_to = f"{target.base}/data"
    text = call(f"{redirector.base}/redirect", redirect="true").replace(
        f"endpoint: '{redirector.base}/redirect'",
        f"endpoint:\n          uri: '{redirector.base}/redirect'\n"
        "          authentication: {bearer: {token: not-for-others}}",
    )
    outcome = await run(text, EgressPolicy())
    assert outcome.status == "completed", outcome.error
    assert target.seen == [{"path": "/data", "authorization": None}]


async def test_an_oauth2_authority_on_a_refused_address_is_refused(
    services: tuple[Service, Service],
) -> None:
    resource, authority = services
    text = f"""
document: {{dsl: '1.0.3', namespace: test, name: egress, version: '1.0.0'}}
do:
  - get:
      call: http
      with:
        method: get
        endpoint:
          uri: '{resource.base}/data'
          authentication:
            oauth2:
              authority: '{authority.base}'
              grant: client_credentials
              client: {{id: a, secret: b}}
"""
    only_resource = EgressPolicy.enforcing([f"127.0.0.1:{resource.port}"])
    outcome = await run(text, only_resource)
    assert_refused(outcome, str(authority.port), "loopback")
    assert authority.seen == [] and resource.seen == []


async def test_an_openapi_document_on_a_refused_address_is_refused(
    services: tuple[Service, Service],
) -> None:
    host, _ = services
    text = f"""
document: {{dsl: '1.0.3', namespace: test, name: egress, version: '1.0.0'}}
do:
  - get:
      call: openapi
      with:
        document: {{endpoint: '{host.base}/openapi.json'}}
        operationId: anything
"""
    outcome = await run(text, ENFORCED)
    assert_refused(outcome, "loopback")
    assert host.seen == []
