"""The editor's routes read YAML that a developer pushed, which may take seconds: they
read it in a worker thread, under the documents' time budget, so the event loop (the
API, webhooks, git hosting of everyone) goes on serving meanwhile."""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from flowapp.apps import project
from flowapp.dsl import source
from flowapp.dsl.source import Limits
from tests.unit.server.harness import YAML

TASK = "      - t{0}: {{set: {{a: [1, 2, 3], b: {{c: 'text'}}}}}}\n"
LARGE = """\
apiVersion: flowapp.dev/v1alpha1
kind: FlowApp
metadata: {name: big, namespace: default}
spec:
  functions:
    charge: {runtime: python, path: functions/charge}
  workflow:
    document: {dsl: '1.0.3', namespace: default, name: big, version: '1.0.0'}
    do:
      - charge: {call: charge}
""" + "".join(TASK.format(i) for i in range(250))


async def created(client: httpx.AsyncClient) -> None:
    answer = await client.post("/api/v1/apps", content=LARGE, headers=YAML)
    assert answer.status_code == 201, answer.text


class RecordingYaml(source.YAML):  # type: ignore[misc]
    """The parser, noting the thread each document is read in."""

    threads: list[threading.Thread] = []

    def load(self, stream: Any) -> Any:
        RecordingYaml.threads.append(threading.current_thread())
        return super().load(stream)


async def test_the_editors_routes_read_yaml_off_the_event_loop(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await created(client)
    monkeypatch.setattr(source, "YAML", RecordingYaml)
    routes: dict[str, Callable[[], Awaitable[httpx.Response]]] = {
        "GET workflow": lambda: client.get("/api/v1/apps/big/workflow"),
        "GET functions": lambda: client.get("/api/v1/apps/big/functions"),
        "validate in app": lambda: client.post(
            "/api/v1/validate?app=big", content=LARGE, headers=YAML
        ),
        "PUT workflow": lambda: client.put(
            "/api/v1/apps/big/workflow", content=LARGE.replace("t249", "last"), headers=YAML
        ),
        "POST functions": lambda: client.post(
            "/api/v1/apps/big/functions", json={"name": "refund", "runtime": "python"}
        ),
    }
    loop_thread = threading.current_thread()  # the event loop's: the ASGI app runs on it
    for route, request in routes.items():
        RecordingYaml.threads = []
        answer = await request()
        assert answer.status_code < 300, answer.text
        assert RecordingYaml.threads, f"{route} read no YAML"
        assert loop_thread not in RecordingYaml.threads, f"{route} read YAML on the event loop"


async def test_a_manifest_past_the_time_budget_is_unusable_and_says_why(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await created(client)
    monkeypatch.setattr(project, "DOCUMENT_LIMITS", Limits(max_seconds=0.01, clock=time.monotonic))
    for answer in (
        await client.get("/api/v1/apps/big/workflow"),
        await client.get("/api/v1/apps/big/functions"),
        await client.post("/api/v1/apps/big/functions", json={"name": "x", "runtime": "python"}),
    ):
        assert answer.status_code == 422, answer.text
        assert "took more than 0.01 s to read" in answer.json()["detail"]
