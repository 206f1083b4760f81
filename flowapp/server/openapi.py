"""The OpenAPI document: error responses, the bearer scheme, shared components.

Every operation lists the problems it may answer (``errors(...)``) with the
``application/problem+json`` media type, so clients and schema-driven testers
(schemathesis) know every status in advance. Operations behind a token get 401 and 403
added; the document declares the bearer scheme once, globally, with the public
operations opting out.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from flowapp.server.models import Faulted, Problem, ProblemLocation
from flowapp.server.problems import PROBLEM_JSON, status_title

REF = "#/components/schemas/{model}"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
FAULTED_REF = {"$ref": "#/components/schemas/Faulted"}
BEARER = {"bearer": {"type": "http", "scheme": "bearer", "description": "An API token."}}
PUBLIC: dict[str, Any] = {"security": []}
TEXT = {"schema": {"type": "string"}}
YAML_TEXT = {"application/yaml": TEXT, "text/yaml": TEXT}


def errors(*statuses: int, public: bool = False) -> dict[int | str, dict[str, Any]]:
    """The problem responses of an operation; 401 and 403 unless it is ``public``."""
    every = statuses if public else (401, 403, *statuses)
    return {status: problem(status) for status in sorted(set(every))}


def problem(status: int, description: str | None = None) -> dict[str, Any]:
    return {
        "description": description or status_title(status),
        "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}},
    }


def faulted_or_problem(description: str) -> dict[str, Any]:
    """An invocation's error status: a faulted execution (JSON) or a problem."""
    return {
        "description": description,
        "content": {
            "application/json": {"schema": FAULTED_REF},
            PROBLEM_JSON: {"schema": PROBLEM_REF},
        },
    }


def request_body(
    content: dict[str, Any], description: str | None = None, *, required: bool = True
) -> dict[str, Any]:
    """The body of an operation whose route reads the request itself (YAML text, an
    archive, CloudEvents, any JSON), as its ``openapi_extra``: FastAPI cannot infer it."""
    body: dict[str, Any] = {"required": required}
    if description is not None:
        body["description"] = description
    return {"requestBody": {**body, "content": content}}


def operation_id(route: APIRoute) -> str:
    """The route function's name (``get_app``, ``invoke`` ...): stable, and what links use."""
    return route.name


def links(*operations: str, **parameters: str) -> dict[str, Any]:
    """OpenAPI links from a response to ``operations``, with their parameters taken from
    the response (``name="$response.body#/name"``): clients and schemathesis follow them."""
    return {op: {"operationId": op, "parameters": dict(parameters)} for op in operations}


def install(app: FastAPI) -> None:
    """Replace ``app.openapi`` by a builder that adds the shared components (once)."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _document(app)
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]


def _document(app: FastAPI) -> dict[str, Any]:
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for model in (Problem, ProblemLocation, Faulted):
        schemas[model.__name__] = model.model_json_schema(ref_template=REF)
    components["securitySchemes"] = BEARER
    document["security"] = [{"bearer": []}]
    return document
