"""Every error is an RFC 7807 problem: invalid resources with locations, bodies that are not
JSON (line and column), bodies over the limit (413, declared or streamed), unknown routes,
wrong methods, invalid parameters, and bugs (a generic 500, never a traceback)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.unit.server.harness import YAML, make_client

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert set(body) >= PROBLEM_KEYS
    assert body["status"] == status
    assert "Traceback" not in response.text
    return body


async def test_an_invalid_resource_lists_its_problems_with_locations(
    client: httpx.AsyncClient,
) -> None:
    text = (
        "document: {dsl: '1.0.3', namespace: default, name: broken, version: '1.0.0'}\n"
        "do:\n"
        "  - first:\n"
        "      then: nowhere\n"
        "      set: {a: 1}\n"
    )
    body = problem(await client.post("/api/v1/apps", content=text, headers=YAML), 422)
    assert body["title"] == "Invalid FlowApp"
    assert body["instance"] == "/api/v1/apps"
    [found] = body["problems"]
    assert found["file"] == "workflow.yaml"  # the file the user wrote, as the project keeps it
    assert (found["line"], found["column"]) == (4, 13)
    assert found["pointer"] == "/do/0/first/then"
    assert "nowhere" in found["message"]


async def test_a_yaml_syntax_error_is_located(client: httpx.AsyncClient) -> None:
    body = problem(await client.post("/api/v1/apps", content="a: [1, 2\nb: 3\n", headers=YAML), 422)
    assert body["problems"][0]["line"] >= 1


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/api/v1/apps/hello/executions", "application/json"),
        ("/api/v1/tokens", "application/json"),
        ("/api/v1/apps", "application/json"),
        ("/api/v1/events", "application/cloudevents+json"),
    ],
)
async def test_a_body_that_is_not_json_is_400_with_line_and_column(
    admin: httpx.AsyncClient, hello: dict[str, Any], path: str, content_type: str
) -> None:
    sent = b'{\n  "name": "x",\n  "role": oops\n}'
    response = await admin.post(path, content=sent, headers={"Content-Type": content_type})
    body = problem(response, 400)
    [where] = body["problems"]
    assert (where["line"], where["column"]) == (3, 11)
    assert where["file"] == "<body>"
    assert "line 3, column 11" in body["detail"]


async def test_nan_is_not_json(client: httpx.AsyncClient, hello: dict[str, Any]) -> None:
    response = await client.post("/api/v1/apps/hello/executions", content=b'{"a": NaN}')
    assert "not JSON" in problem(response, 400)["detail"]


async def test_a_body_that_is_not_utf8_is_400_at_the_byte(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/apps", content=b"a: 1\nb: \xff\n", headers=YAML)
    body = problem(response, 400)
    assert (body["problems"][0]["line"], body["problems"][0]["column"]) == (2, 4)


async def test_a_declared_body_over_the_limit_is_413_before_it_is_read(
    client: httpx.AsyncClient, hello: dict[str, Any]
) -> None:
    big = b'"' + b"x" * (64 * 1024) + b'"'
    body = problem(await client.post("/api/v1/apps/hello/executions", content=big), 413)
    assert "65,536" in body["detail"]


async def chunks(size: int, count: int) -> AsyncIterator[bytes]:
    yield b'"'
    for _ in range(count):
        yield b"x" * size
    yield b'"'


@pytest.mark.parametrize(
    "path", ["/api/v1/apps/hello/executions", "/api/v1/tokens", "/api/v1/apps/hello/traffic"]
)
async def test_a_streamed_body_over_the_limit_is_413(
    admin: httpx.AsyncClient, hello: dict[str, Any], path: str
) -> None:
    method = "PUT" if path.endswith("traffic") else "POST"
    response = await admin.request(method, path, content=chunks(16 * 1024, 8))
    problem(response, 413)


async def test_source_uploads_have_the_larger_limit(client: httpx.AsyncClient) -> None:
    over_default = b"\x1f\x8b" + b"\0" * (100 * 1024)  # over 64 KiB, under 256 KiB
    response = await client.put(
        "/api/v1/apps/hello/source",
        content=over_default,
        headers={"Content-Type": "application/gzip"},
    )
    assert response.status_code == 400  # read whole, then refused as a bad archive
    too_big = b"\x1f\x8b" + b"\0" * (300 * 1024)
    problem(await client.put("/api/v1/apps/hello/source", content=too_big), 413)


async def test_an_unknown_route_is_a_404_problem(client: httpx.AsyncClient) -> None:
    body = problem(await client.get("/api/v1/nothing"), 404)
    assert body["instance"] == "/api/v1/nothing"
    assert body["type"] == "about:blank"


async def test_a_wrong_method_is_a_405_problem_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/v1/executions")
    body = problem(response, 405)
    assert response.headers["allow"] == "GET"
    assert "DELETE" in body["detail"]


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/api/v1/apps", "GET, POST"),
        ("/api/v1/apps/hello", "DELETE, GET, PUT"),
        ("/api/v1/apps/hello/traffic", "GET, PUT"),
        ("/api/v1/tokens", "GET, POST"),
    ],
)
async def test_allow_names_every_method_of_the_path(
    admin: httpx.AsyncClient, path: str, allow: str
) -> None:
    response = await admin.request("PATCH", path)
    problem(response, 405)
    assert response.headers["allow"] == allow


async def test_invalid_parameters_are_422_with_their_place(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/executions", params={"limit": "many"})
    body = problem(response, 422)
    assert body["problems"][0]["file"] == "<query>"
    assert body["problems"][0]["pointer"] == "/limit"


async def test_an_invalid_app_name_is_422(client: httpx.AsyncClient) -> None:
    problem(await client.get("/api/v1/apps/Not_A_Label"), 422)


async def test_an_unsupported_media_type_is_415(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/apps", content=b"x", headers={"Content-Type": "image/png"}
    )
    problem(response, 415)


class Broken:
    """A platform with a bug."""

    async def list_apps(self) -> Any:
        raise RuntimeError("secret internals /etc/passwd")


async def test_a_bug_is_a_generic_500_without_a_traceback(
    api: FastAPI, tokens: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    api.state.services = replace(api.state.services, platform=Broken())
    async with make_client(api, tokens["viewer"], raise_app_exceptions=False) as client:
        response = await client.get("/api/v1/apps")
    body = problem(response, 500)
    assert "secret" not in response.text and "RuntimeError" not in response.text
    assert body["detail"].startswith("the server failed")
    assert "secret internals" in caplog.text  # logged server-side, with its traceback
