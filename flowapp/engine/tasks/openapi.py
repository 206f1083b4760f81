"""``call: openapi``: fetch the OpenAPI (or Swagger 2.0) document, find the operation by
its ``operationId``, build the HTTP request from the parameters, then read the response
like an HTTP call. The runtime fetches and parses the document (and may cache it)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from flowapp.dsl import errors
from flowapp.dsl.model import CallOpenApiTask
from flowapp.engine.commands import FetchDocument
from flowapp.engine.http import (
    endpoint_url,
    note_negotiated,
    read_response,
    resolve_authentication,
    with_query,
)
from flowapp.engine.machine import Machine, TaskFault
from flowapp.engine.state import Effect, Frame
from flowapp.engine.tasks.base import TaskHandler
from flowapp.engine.tasks.calls import send_http

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def find_operation(
    document: dict[str, Any], operation_id: str
) -> tuple[str, str, dict[str, Any], list[Any]]:
    """``(method, path, operation, parameters)`` of the operation with that id."""
    for path, item in (document.get("paths") or {}).items():
        for method in _METHODS:
            operation = item.get(method)
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                shared = item.get("parameters") or []
                return method, path, operation, [*shared, *(operation.get("parameters") or [])]
    raise KeyError(operation_id)


def base_url(document: dict[str, Any], document_url: str) -> str:
    if "swagger" in document:
        scheme = (document.get("schemes") or [urlsplit(document_url).scheme or "https"])[0]
        host = document.get("host") or urlsplit(document_url).netloc
        return f"{scheme}://{host}{document.get('basePath', '')}"
    servers = document.get("servers") or [{"url": "/"}]
    server = servers[0]
    url = str(server.get("url", "/"))
    for name, variable in (server.get("variables") or {}).items():
        url = url.replace("{" + name + "}", str(variable.get("default", "")))
    return urljoin(document_url, url)


def build_operation_request(
    document: dict[str, Any], document_url: str, operation_id: str, arguments: dict[str, Any]
) -> tuple[str, str, dict[str, str], Any, bool]:
    """``(method, url, headers, body, has_body)`` for calling the operation."""
    method, path, operation, parameters = find_operation(document, operation_id)
    remaining = dict(arguments)
    query: dict[str, Any] = {}
    headers: dict[str, str] = {}
    body: Any = None
    has_body = False
    for parameter in parameters:
        name, where = parameter.get("name"), parameter.get("in")
        if name not in remaining:
            continue
        value = remaining.pop(name)
        if where == "path":
            path = path.replace("{" + name + "}", quote(str(value), safe=""))
        elif where == "query":
            query[name] = value
        elif where == "header":
            headers[name] = str(value)
        elif where in ("body", "formData"):
            body, has_body = value, True
    if "requestBody" in operation and not has_body and remaining:
        body, has_body = remaining.get("body", remaining), True
    url = with_query(base_url(document, document_url).rstrip("/") + path, query)
    return method.upper(), url, headers, body, has_body


class CallOpenApiHandler(TaskHandler):
    replayable = True

    def start(self, m: Machine, task: CallOpenApiTask, frame: Frame) -> None:
        scope = m.scope(frame, task)
        url = endpoint_url(m, task.document, frame, scope, task.reference)
        auth = resolve_authentication(m, task.document.authentication, frame, scope, task.reference)
        frame.data["document_url"] = url
        m.issue(frame, FetchDocument(effect_id=m.new_effect_id(), url=url, headers={}, auth=auth))

    def on_result(self, m: Machine, frame: Frame, effect: Effect, result: Any) -> None:
        task = m.workflow.task(frame.reference)
        assert isinstance(task, CallOpenApiTask)
        try:
            if effect.command.kind == FetchDocument.kind:
                self.call_operation(m, task, frame, result)
            else:
                note_negotiated(frame, result)
                output = read_response(
                    task, frame.data["request"], result, task.output_format, task.redirect
                )
                m.complete(frame, output)
        except TaskFault as fault:
            m.fault(frame, fault.error)

    def call_operation(
        self, m: Machine, task: CallOpenApiTask, frame: Frame, document: Any
    ) -> None:
        scope = m.scope(frame, task)
        where = task.reference
        arguments: dict[str, Any] = {}
        if task.parameters is not None:
            arguments = m.render(task.parameters, frame.input, scope, where) or {}
        try:
            method, url, headers, body, has_body = build_operation_request(
                document, frame.data["document_url"], task.operation_id, arguments
            )
        except KeyError:
            detail = f"the OpenAPI document has no operation `{task.operation_id}`"
            raise TaskFault(errors.error(errors.CONFIGURATION, detail, instance=where)) from None
        auth = resolve_authentication(m, task.authentication, frame, scope, where)
        send_http(m, frame, method, url, headers, body, has_body, auth, redirect=task.redirect)
