"""HTTP calls without the I/O: build the request a task describes, read the response.

The runtime sends what ``build_request`` describes and answers with a JSON-able response
``{"status", "headers", "body", "base64", "url"}`` (``body`` is text, or base64 when the
content is binary). ``read_response`` turns it into the task's raw output, or a
communication error carrying the HTTP status, as the spec requires.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from flowapp.dsl import errors
from flowapp.dsl.model import Authentication, Endpoint, Task
from flowapp.engine.machine import Machine, TaskFault
from flowapp.engine.scope import FrameScope
from flowapp.engine.state import Frame

_TEMPLATE_VARIABLE = re.compile(r"\{([^{}]+)\}")
_SCALARS = (str, int, float, bool, type(None))


def expand_uri_template(template: str, values: Any, where: str) -> str:
    """RFC 6570 simple string expansion with top-level properties of ``values``."""
    source = values if isinstance(values, dict) else {}

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        value = source.get(name)
        if not isinstance(value, _SCALARS):
            detail = f"URI template variable `{name}` must be a string, number or boolean"
            raise TaskFault(errors.error(errors.EXPRESSION, detail, instance=where))
        if value is None:
            return ""
        text = json.dumps(value) if isinstance(value, bool) else str(value)
        return quote(text, safe="")

    return _TEMPLATE_VARIABLE.sub(substitute, template)


def endpoint_url(
    m: Machine, endpoint: Endpoint, frame: Frame, scope: FrameScope, where: str
) -> str:
    raw = m.render(endpoint.uri, frame.input, scope, where)
    if not isinstance(raw, str):
        detail = f"the endpoint must be a URI string, got {type(raw).__name__}"
        raise TaskFault(errors.error(errors.EXPRESSION, detail, instance=where))
    return expand_uri_template(raw, frame.input, where) if endpoint.is_uri_template else raw


def with_query(url: str, query: Any) -> str:
    if not query:
        return url
    pairs = [(str(k), v if isinstance(v, str) else json.dumps(v)) for k, v in query.items()]
    parts = urlsplit(url)
    joined = "&".join(filter(None, [parts.query, urlencode(pairs)]))
    return urlunsplit(parts._replace(query=joined))


def resolve_authentication(
    m: Machine, auth: Authentication | None, frame: Frame, scope: FrameScope, where: str
) -> dict[str, Any] | None:
    """The authentication the runtime applies when it sends the request: the scheme and its
    settings, rendered, with secrets resolved. The runtime builds the credentials (a
    ``Basic`` header, a digest answer, an OAuth2 token) at send time, so that a command
    saved with the state never holds a resolved ``Authorization`` header, and answers
    ``$authorization`` beside the response."""
    if auth is None:
        return None
    if auth.secret is not None:
        secrets = m.secrets()
        if auth.secret not in secrets:
            detail = (
                f"secret `{auth.secret}` is declared in use.secrets, "
                "but no value was supplied for it"
            )
            raise TaskFault(errors.error(errors.AUTHORIZATION, detail, instance=where))
        settings = secrets[auth.secret]
        if not isinstance(settings, dict):
            detail = f"secret `{auth.secret}` must be an object of {auth.scheme} settings"
            raise TaskFault(errors.error(errors.CONFIGURATION, detail, instance=where))
    else:
        settings = m.render(auth.settings, frame.input, scope, where)
        if not isinstance(settings, dict):
            detail = f"the {auth.scheme} settings must be an object"
            raise TaskFault(errors.error(errors.CONFIGURATION, detail, instance=where))
    return {"scheme": auth.scheme, **settings}


def note_negotiated(frame: Frame, response: Any) -> None:
    """``$authorization``: the credentials the runtime sent (a ``Basic`` or ``Bearer``
    parameter, an OAuth2 token), which it returns beside the response."""
    if isinstance(response, dict) and isinstance(response.get("authorization"), dict):
        frame.data["authorization"] = response["authorization"]


def content_of(response: dict[str, Any]) -> Any:
    """The response body, deserialised when it is JSON or text."""
    body = response.get("body")
    if body in (None, ""):
        return None
    if response.get("base64"):
        return body
    content_type = str(_header(response, "content-type") or "").lower()
    if "json" in content_type or not content_type:
        try:
            return json.loads(body)
        except ValueError:
            return body
    return body


def raw_of(response: dict[str, Any]) -> str | None:
    body = response.get("body")
    if body is None:
        return None
    return body if response.get("base64") else base64.b64encode(body.encode()).decode()


def _header(response: dict[str, Any], name: str) -> Any:
    for key, value in (response.get("headers") or {}).items():
        if key.lower() == name:
            return value
    return None


def read_response(
    task: Task,
    request: dict[str, Any],
    response: dict[str, Any],
    output_format: str,
    redirect: bool,
) -> Any:
    """The task's raw output, or a ``TaskFault`` for a status outside the accepted range."""
    status = int(response["status"])
    upper = 399 if redirect else 299
    if not 200 <= status <= upper:
        body = str(response.get("body") or "")[:500]
        title = f"HTTP {status} from {request['method']} {request['uri']}"
        raise TaskFault(
            errors.error(
                errors.COMMUNICATION,
                body or None,
                instance=task.reference,
                status=status,
                title=title,
            )
        )
    if output_format == "raw":
        return raw_of(response)
    content = content_of(response)
    if output_format == "response":
        return {
            "request": request,
            "statusCode": status,
            "headers": response.get("headers") or {},
            "content": content,
        }
    return content
