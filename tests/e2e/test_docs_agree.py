"""What docs/api.md promises, checked on a real ``flowapp up``: cancelling an execution
that has ended is 409, a webhook called with a method its trigger does not take is 405
with ``Allow``, the status route's times are ISO 8601, and ``/docs`` loads nothing from
another host."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest

from tests.e2e.platform_process import RunningPlatform, flowapp_up, wait_for_execution

HOOKED = """\
apiVersion: flowapp.dev/v1alpha1
kind: FlowApp
metadata: {name: hooked}
spec:
  triggers:
    - name: orders
      http: {path: /hooks/orders, methods: [POST, PUT], public: true}
  workflow:
    document: {dsl: '1.0.3', namespace: default, name: hooked, version: '1.0.0'}
    do:
      - done: {set: {ok: true}}
"""
ISO_8601 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    root = tmp_path_factory.mktemp("agree")
    (root / "hooked").mkdir()
    (root / "hooked" / "flowapp.yaml").write_text(HOOKED)
    with flowapp_up(root / "data", "--app", str(root / "hooked")) as running:
        yield running


def test_cancelling_an_ended_execution_is_409(platform: RunningPlatform) -> None:
    with platform.client() as api:
        started = api.post("/api/v1/apps/hooked/executions", json={}, params={"wait": 10})
        execution_id = started.json()["id"]
        assert wait_for_execution(api, execution_id)["status"] == "completed"
        for action in ("cancel", "suspend", "resume"):
            refused = api.post(f"/api/v1/executions/{execution_id}/{action}")
            assert refused.status_code == 409, (action, refused.text)
            assert "completed" in refused.json()["detail"]


def test_a_webhook_called_with_another_method_is_405_with_allow(
    platform: RunningPlatform,
) -> None:
    wrong = httpx.get(f"{platform.url}/hooks/orders", timeout=30)
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "POST, PUT"
    assert wrong.headers["content-type"] == "application/problem+json"
    assert wrong.json()["detail"] == "GET is not accepted on /hooks/orders: use POST, PUT"
    assert httpx.put(f"{platform.url}/hooks/orders", json={}, timeout=30).status_code == 202


def test_the_status_route_speaks_iso_8601(platform: RunningPlatform) -> None:
    with platform.client() as api:
        observed(api, "hooked")  # the syncer's first look at the app after its deploy
        status = api.get("/api/v1/apps/hooked/status").json()
        app = api.get("/api/v1/apps/hooked").json()
    for shown in (status, app):
        times = [c["last_transition_time"] for c in shown["conditions"]]
        times.append(shown["observation"]["observed_at"])
        assert times and all(ISO_8601.fullmatch(t) for t in times), times
        assert all(datetime.fromisoformat(t).year >= 2024 for t in times)


def observed(api: httpx.Client, name: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while api.get(f"/api/v1/apps/{name}").json()["observation"] is None:
        assert time.monotonic() < deadline, f"{name} was not observed within {timeout} s"
        time.sleep(0.2)


def test_docs_load_nothing_from_another_host(platform: RunningPlatform) -> None:
    page = httpx.get(f"{platform.url}/docs", timeout=30)
    assert page.status_code == 200
    assert "cdn." not in page.text and "https://" not in page.text
    for url in re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text):
        assert httpx.get(f"{platform.url}{url}", timeout=30).status_code == 200, url
