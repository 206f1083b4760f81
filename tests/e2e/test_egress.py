"""The egress policy of ``flowapp up``, with real processes: a workflow's calls to a
loopback service, to a name that resolves to loopback, to the cloud metadata address, and
through a redirect to loopback are refused by default with a clear problem on the task;
the allow list admits them; ``redirect: false`` answers the 3xx."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from tests.e2e.platform_process import create_and_deploy, flowapp_up, free_port

CALLS = """\
document: {dsl: '1.0.3', namespace: test, name: NAME, version: '1.0.0'}
do:
  - get:
      call: http
      with:
        method: get
        endpoint: {uri: '${ .url }'}
        redirect: FOLLOW
"""


class Services:
    """A target and a redirector on 127.0.0.1, in a thread, recording what reaches them."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.loop = asyncio.new_event_loop()
        self.runners: list[web.AppRunner] = []
        self.target = self.redirector = 0

    def app(self, name: str) -> web.Application:
        async def data(request: web.Request) -> web.Response:
            self.seen.append(f"{name}{request.path_qs}")
            return web.json_response({"from": name})

        async def redirect(request: web.Request) -> web.Response:
            self.seen.append(f"{name}{request.path_qs}")
            raise web.HTTPFound(request.query["to"])

        app = web.Application()
        app.router.add_get("/data", data)
        app.router.add_get("/redirect", redirect)
        return app

    def __enter__(self) -> Services:
        self.target, self.redirector = free_port(), free_port()
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self.loop)
            for name, port in (("target", self.target), ("redirector", self.redirector)):
                runner = web.AppRunner(self.app(name))
                self.loop.run_until_complete(runner.setup())
                self.loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
                self.runners.append(runner)
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=serve, daemon=True)
        self.thread.start()
        ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        for runner in self.runners:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def services() -> Iterator[Services]:
    with Services() as running:
        yield running


def deploy_both(api: httpx.Client) -> None:
    create_and_deploy(api, CALLS.replace("NAME", "follows").replace("FOLLOW", "true"), "follows")
    create_and_deploy(api, CALLS.replace("NAME", "stays").replace("FOLLOW", "false"), "stays")


def invoke(api: httpx.Client, app: str, url: str) -> tuple[int, dict[str, Any]]:
    answer = api.post(f"/api/v1/apps/{app}/executions?wait=30", json={"url": url})
    return answer.status_code, answer.json()


def assert_refused(status: int, body: dict[str, Any], *words: str) -> None:
    assert status == 403, body
    error = body["error"]
    assert error["type"].endswith("/authorization") and error["title"] == "Egress Refused"
    assert error["instance"] == "/do/0/get"
    for word in words:
        assert word in error["detail"], error["detail"]


def test_flowapp_up_refuses_private_addresses_by_default(
    tmp_path: Path, services: Services
) -> None:
    target = f"127.0.0.1:{services.target}"
    redirect = f"http://127.0.0.1:{services.redirector}/redirect?to="
    # Only the redirector is allowed: what it points at is checked at that hop.
    allow = ("--allow-egress", f"127.0.0.1:{services.redirector}")
    with flowapp_up(tmp_path / "data", *allow) as platform, platform.client() as api:
        deploy_both(api)
        assert_refused(*invoke(api, "follows", f"http://{target}/data"), target, "loopback")
        by_name = f"http://localhost:{services.target}/data"
        assert_refused(*invoke(api, "follows", by_name), "localhost (127.0.0.1)", "loopback")
        metadata = "http://169.254.169.254/latest/meta-data/iam/"
        assert_refused(*invoke(api, "follows", metadata), "cloud metadata")
        for hop in (f"http://{target}/data", f"http://localhost:{services.target}/data"):
            status, body = invoke(api, "follows", redirect + hop)
            assert_refused(status, body, "loopback", "redirected to")
        assert all(seen.startswith("redirector") for seen in services.seen)
        assert len(services.seen) == 2


def test_the_allow_list_admits_and_redirect_false_answers_the_3xx(
    tmp_path: Path, services: Services
) -> None:
    target = f"http://127.0.0.1:{services.target}/data"
    redirect = f"http://127.0.0.1:{services.redirector}/redirect?to={target}"
    with (
        flowapp_up(tmp_path / "data", "--allow-egress", "127.0.0.1") as platform,
        platform.client() as api,
    ):
        deploy_both(api)
        status, body = invoke(api, "follows", target)
        assert status == 200 and body["output"] == {"from": "target"}, body
        status, body = invoke(api, "follows", redirect)
        assert status == 200 and body["output"] == {"from": "target"}, body
        services.seen.clear()
        status, body = invoke(api, "stays", redirect)
        assert body["status"] == "faulted" and body["error"]["status"] == 302, body
        assert body["error"]["type"].endswith("/communication")
        assert status == 500  # the API answers a fault whose status is not an error's with 500
        assert services.seen == [f"redirector/redirect?to={target}"]  # not followed
