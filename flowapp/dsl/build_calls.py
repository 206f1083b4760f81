"""Model builders for ``call`` and ``run`` tasks (split from ``build`` for size)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flowapp.dsl import model as m

if TYPE_CHECKING:
    from flowapp.dsl.build import Builder

_UNSUPPORTED_CALLS = {
    "grpc": "gRPC calls are not supported by this runtime yet",
    "asyncapi": "AsyncAPI calls are not supported by this runtime yet",
    "a2a": "A2A calls are not supported by this runtime yet",
    "mcp": "MCP calls are not supported by this runtime yet",
}


def build_call(b: Builder, d: Mapping[str, Any], ref: str, common: dict[str, Any]) -> m.Task:
    call = d["call"]
    arguments = d.get("with")
    if call == "http":
        return _http(b, arguments or {}, common)
    if call == "openapi":
        return _openapi(b, arguments or {}, common)
    if call in _UNSUPPORTED_CALLS:
        return m.UnsupportedTask(reason=_UNSUPPORTED_CALLS[call], **common)
    if call in b.app_functions:
        return m.CallFunctionTask(function=call, arguments=b.optional_template(arguments), **common)
    functions = b.use.get("functions") or {}
    if call in functions:
        body = _defined_function(b, call, functions[call])
        return m.CallDefinedFunctionTask(
            function=call, arguments=b.optional_template(arguments), body=body, **common
        )
    reason = f"function `{call}` is not defined (no FlowApp function or use.functions entry)"
    if "@" in call or "://" in call:
        reason = f"function `{call}` comes from a catalog or URL, which this runtime cannot fetch"
    return m.UnsupportedTask(reason=reason, **common)


def _defined_function(b: Builder, name: str, definition: Mapping[str, Any]) -> m.Task:
    reference = f"/use/functions/{name}"
    existing = b.by_reference.get(reference)
    return existing if existing is not None else b.task(name, definition, reference)


def _http(b: Builder, w: Mapping[str, Any], common: dict[str, Any]) -> m.Task:
    return m.CallHttpTask(
        method=b.template(w["method"]),
        endpoint=b.endpoint(w["endpoint"]),
        headers=b.optional_template(w.get("headers")),
        query=b.optional_template(w.get("query")),
        body=b.optional_template(w.get("body")),
        output_format=w.get("output", "content"),
        redirect=bool(w.get("redirect", False)),
        **common,
    )


def _openapi(b: Builder, w: Mapping[str, Any], common: dict[str, Any]) -> m.Task:
    return m.CallOpenApiTask(
        document=b.endpoint(w["document"]["endpoint"]),
        operation_id=w["operationId"],
        parameters=b.optional_template(w.get("parameters")),
        authentication=b.authentication(w.get("authentication")),
        output_format=w.get("output", "content"),
        redirect=bool(w.get("redirect", False)),
        **common,
    )


def build_run(b: Builder, d: Mapping[str, Any], ref: str, common: dict[str, Any]) -> m.Task:
    run = d["run"]
    await_ = bool(run.get("await", True))
    return_ = run.get("return", "stdout")
    if "workflow" in run:
        target = run["workflow"]
        return m.RunWorkflowTask(
            namespace=target["namespace"],
            workflow_name=target["name"],
            version=str(target.get("version", "latest")),
            workflow_input=b.optional_template(target.get("input")),
            await_=await_,
            return_=return_,
            **common,
        )
    if "shell" in run:
        return _process(
            b, "shell", None, run["shell"], run["shell"]["command"], await_, return_, common
        )
    if "script" in run:
        script = run["script"]
        if "code" not in script:
            reason = "scripts from an external source are not supported; inline the code"
            return m.UnsupportedTask(reason=reason, **common)
        language = str(script["language"]).lower()
        return _process(b, "script", language, script, script["code"], await_, return_, common)
    reason = "container processes need a container runtime, and none is configured"
    return m.UnsupportedTask(reason=reason, **common)


def _process(
    b: Builder,
    kind: str,
    language: str | None,
    spec: Mapping[str, Any],
    code: str,
    await_: bool,
    return_: str,
    common: dict[str, Any],
) -> m.Task:
    return m.RunProcessTask(
        kind=kind,
        language=language,
        code=b.template(code),
        arguments=b.optional_template(spec.get("arguments")),
        environment=b.optional_template(spec.get("environment")),
        stdin=b.optional_template(spec.get("stdin")),
        await_=await_,
        return_=return_,
        **common,
    )
