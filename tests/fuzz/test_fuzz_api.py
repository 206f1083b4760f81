"""Fuzzing the API's bodies: resources (YAML and JSON text, checked by the real loader on
the real platform), execution inputs and CloudEvents in both content modes. Whatever
arrives, the answer is a 2xx or an RFC 7807 problem with a 4xx status: never a 500 (the
one answer that logs a traceback).

Complements the schemathesis runs (``tests/integration/server/test_api_schemathesis.py``,
``tests/e2e/test_platform_schemathesis.py``), which generate from the OpenAPI document:
these bodies are the ones it cannot describe (YAML text, binary-mode headers)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
from httpx import Client
from hypothesis import example, given
from hypothesis import strategies as st

from flowapp.store.memory import MemoryStore
from flowapp.store.platform import MemoryPlatformStore
from tests.platforms import ServedPlatform

from .profiles import FUZZ
from .strategies import EXAMPLE_RESOURCE, as_text, json_values, mutated, yaml_text

HELLO = """\
document: {dsl: '1.0.3', namespace: default, name: hello, version: '1.0.0'}
do:
  - greet: {set: {greeting: '${ "Hello, " + (.name // "you") + "!" }'}}
"""
EVENT = {"specversion": "1.0", "id": "e-1", "source": "/fuzz", "type": "dev.fuzz", "data": {}}
RESOURCE_TYPES = ["application/yaml", "text/yaml", "application/json", "text/plain", "", "x/y"]
EVENT_TYPES = [
    "application/cloudevents+json",
    "application/cloudevents-batch+json",
    "application/json",
    "text/plain",
    "application/octet-stream",
    "",
]
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40).map(
    str.strip
)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """The API on the real platform, with ``hello`` deployed, and an admin's client."""
    store, platform_store = MemoryStore(), MemoryPlatformStore()
    _, admin = platform_store.create_token("admin", role="admin", now=time.time())
    data = tmp_path_factory.mktemp("fuzz-platform")
    headers = {"Authorization": f"Bearer {admin}"}
    # A generous timeout: a loaded machine may take seconds to answer.
    with (
        ServedPlatform(data, store=store, platform_store=platform_store) as served,
        Client(base_url=served.url, headers=headers, timeout=60) as client,
    ):
        created = client.post("/api/v1/apps", content=HELLO, headers={"content-type": "text/yaml"})
        assert created.status_code == 201, created.text
        assert client.post("/api/v1/apps/hello/deploys").status_code == 201
        yield client


def assert_answered(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json", response.text
        problem = response.json()
        assert problem["status"] == response.status_code and problem["detail"]


resource_bodies = (
    yaml_text.map(lambda text: text.encode("utf-8", "surrogatepass"))
    | st.builds(as_text, mutated(EXAMPLE_RESOURCE), st.sampled_from(["pretty", "flat"])).map(
        str.encode
    )
    | st.binary(max_size=300)
)


@FUZZ
@given(resource_bodies, st.sampled_from(RESOURCE_TYPES), st.sampled_from(["validate", "apps"]))
@example(b"document: 5\ndo: []\n", "application/yaml", "apps")
@example(b'{"document": [1]}', "application/json", "validate")
@example(b'a: "\\ud800"\n', "application/yaml", "apps")
def test_a_resource_body_is_checked_or_refused(
    api: Client, body: bytes, kind: str, route: str
) -> None:
    url = "/api/v1/validate" if route == "validate" else "/api/v1/apps"
    assert_answered(api.post(url, content=body, headers={"content-type": kind}))


@FUZZ
@given(
    st.one_of(json_values.map(lambda value: json.dumps(value).encode()), st.binary(max_size=200)),
    st.one_of(st.none(), header_text),
    st.one_of(st.none(), header_text),
)
@example(b'{"name": "\\ud800"}', None, None)
@example(b"[" * 1000 + b"]" * 1000, None, "")
def test_an_execution_input_starts_one_or_is_refused(
    api: Client, body: bytes, wait: str | None, key: str | None
) -> None:
    params = {"wait": wait} if wait is not None else {}
    headers = {"Idempotency-Key": key} if key is not None else {}
    answer = api.post("/api/v1/apps/hello/executions", content=body, params=params, headers=headers)
    if answer.headers["content-type"] == "application/json":
        assert answer.status_code in (200, 202) or answer.json()["status"] == "faulted"
    else:
        assert_answered(answer)


ce_headers = st.dictionaries(
    st.sampled_from(
        [
            "ce-id",
            "ce-source",
            "ce-type",
            "ce-specversion",
            "ce-time",
            "ce-subject",
            "ce-dataschema",
            "ce-datacontenttype",
            "ce-Bad_Name",
            "ce-traceparent",
            "content-type",
        ]
    ),
    header_text | st.sampled_from(["1.0", "0.3", "2024-05-01T12:00:00Z", "application/json"]),
    max_size=8,
)


@FUZZ
@given(ce_headers, st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
@example({"ce-id": "1", "ce-source": "/s", "ce-type": "t", "ce-specversion": "1.0"}, b"{}")
@example({"ce-id": "", "ce-specversion": "9"}, b"\xff")
def test_a_binary_mode_event_is_published_or_refused(
    api: Client, headers: dict[str, str], body: bytes
) -> None:
    assert_answered(api.post("/api/v1/events", content=body, headers=headers))


@FUZZ
@given(
    st.one_of(
        mutated(EVENT).map(json.dumps),
        st.lists(mutated(EVENT), max_size=3).map(json.dumps),
        json_values.map(json.dumps),
    ).map(str.encode)
    | st.binary(max_size=200),
    st.sampled_from(EVENT_TYPES),
)
@example(json.dumps({**EVENT, "specversion": 1}).encode(), "application/cloudevents+json")
@example(json.dumps([EVENT, 5]).encode(), "application/cloudevents-batch+json")
def test_a_structured_event_is_published_or_refused(api: Client, body: bytes, kind: str) -> None:
    assert_answered(api.post("/api/v1/events", content=body, headers={"content-type": kind}))


def test_the_fuzzed_platform_still_answers(api: Client) -> None:
    assert api.get("/healthz").status_code == 200
    assert api.post("/api/v1/apps/hello/executions?wait=5", json={"name": "Ada"}).json()[
        "output"
    ] == {"greeting": "Hello, Ada!"}
