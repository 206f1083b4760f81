"""Request bodies the routes read themselves: JSON values, resource text, archives.

Routes whose body is a fixed object (tokens, alert rules, traffic) let FastAPI parse it
into a pydantic model; the routes here take bodies FastAPI cannot describe as a model:
an execution's input (any JSON value), a FlowApp as YAML or JSON text, a CloudEvent in
either content mode, a gzipped tar. Sizes are enforced by ``limits.BodyLimitMiddleware``
while the body streams in; this module decides whether what arrived is usable and, when
it is not, says what is wrong and where (line and column) with a ``BadBody`` (400).
"""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

from starlette.requests import Request

from flowapp.dsl.problems import Problem, join_pointer
from flowapp.server.platform import PlatformError
from flowapp.server.problems import text_position

BODY = "<body>"
YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})
JSON_TYPES = frozenset({"application/json"})
TEXT_TYPES = YAML_TYPES | JSON_TYPES | {"text/plain", ""}
GZIP_TYPES = frozenset({"application/gzip", "application/x-gzip", "application/octet-stream"})
GZIP_MAGIC = b"\x1f\x8b"
# Deeper than any payload needs, and far from the depth at which code that walks a value
# (the engine, jq, the JSON encoders of the stores) runs out of stack.
MAX_JSON_DEPTH = 128


class BadBody(PlatformError):
    """A body that is not what the route expects (not JSON, not UTF-8, not gzip)."""

    status = 400
    title = "Bad Request Body"


class UnsupportedMediaType(PlatformError):
    status = 415
    title = "Unsupported Media Type"


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def decode_text(raw: bytes) -> str:
    """UTF-8 text (a byte order mark is dropped); else a 400 at the offending byte."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        prefix = raw[: exc.start].decode("utf-8", errors="replace")
        line, column = text_position(prefix, len(prefix))
        message = f"the body is not UTF-8 text (byte 0x{raw[exc.start]:02x})"
        _bad(message, line, column)


def _refuse_constant(name: str) -> NoReturn:
    # json accepts NaN and Infinity, which are not JSON and which no store can keep.
    raise ValueError(f"{name} is not a JSON value")


def parse_json(raw: bytes) -> Any:
    """The JSON value of a body; an empty body is ``null``. A value nested deeper than
    ``MAX_JSON_DEPTH`` or holding a string that is not Unicode (a lone surrogate escape,
    ``"\\ud800"``, which no store can keep) is refused with its JSON pointer."""
    text = decode_text(raw)
    if not text.strip():
        return None
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        _bad(f"the body is not JSON: {exc.msg}", exc.lineno, exc.colno)
    except ValueError as exc:
        _bad(f"the body is not JSON: {exc}", 1, 1)
    except RecursionError:
        _bad(f"the body is not usable JSON: it is nested deeper than {MAX_JSON_DEPTH} levels", 1, 1)
    texts = _SURROGATE_ESCAPE.search(text) is not None
    # Nesting deeper than the limit needs more brackets than the limit: most bodies have
    # fewer, and are not walked at all.
    if texts or text.count("[") + text.count("{") > MAX_JSON_DEPTH:
        _check_value(value, texts=texts)
    return value


# Only an escape can put a surrogate in a decoded string (UTF-8 text cannot hold one), so
# strings are looked at only when the body has one: most bodies are walked for depth only.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_Place = tuple[Any, "_Place | None"] | None  # (key, parent place): a pointer built on demand


def _check_value(value: Any, *, texts: bool) -> None:
    """Walks the value without recursion (a deep value must not exhaust the stack here),
    building a value's pointer only if it is refused; strings too if ``texts``."""
    too_deep = f"the body is not usable JSON: it is nested deeper than {MAX_JSON_DEPTH} levels"
    if not isinstance(value, dict | list | str):
        return
    pending: list[tuple[Any, int, _Place]] = [(value, 0, None)]
    while pending:
        item, depth, place = pending.pop()
        if isinstance(item, str):
            _check_text(item, place)
            continue
        if depth >= MAX_JSON_DEPTH:
            _bad_at(_pointer(place), too_deep)
        pairs = item.items() if isinstance(item, dict) else enumerate(item)
        for key, child in pairs:
            if texts and isinstance(key, str):  # located at its object: the key is not text
                _check_text(key, place)
            if isinstance(child, dict | list) or (texts and isinstance(child, str)):
                pending.append((child, depth + 1, (key, place)))


def _check_text(text: str, place: _Place) -> None:
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(text[exc.start])
        message = f"the string holds a lone surrogate (\\u{code:04x}): it is not Unicode text"
        _bad_at(_pointer(place), message)


def _pointer(place: _Place) -> str:
    keys = []
    while place is not None:
        key, place = place
        keys.append(key)
    return join_pointer("", *reversed(keys))


async def json_body(request: Request) -> Any:
    """An input or event: JSON whatever the declared type, since clients often omit it."""
    return parse_json(await request.body())


async def resource_text(request: Request) -> tuple[str, str]:
    """A FlowApp or workflow as text, and the file name its problems are reported in.
    JSON declared as JSON must be JSON (YAML would accept more and blame the wrong line)."""
    kind = media_type(request)
    if kind not in TEXT_TYPES:
        accepted = "application/yaml, text/yaml or application/json"
        raise UnsupportedMediaType(f"a resource is sent as {accepted}, not {kind}")
    raw = await request.body()
    if not raw.strip():
        raise BadBody("the body is empty: send a FlowApp or a workflow as YAML or JSON")
    if kind in JSON_TYPES:
        if not isinstance(parse_json(raw), dict):
            raise BadBody("a resource sent as JSON is a JSON object")
        return decode_text(raw), "flowapp.json"
    return decode_text(raw), "flowapp.yaml"


async def archive_body(request: Request) -> bytes:
    kind = media_type(request)
    if kind and kind not in GZIP_TYPES:
        raise UnsupportedMediaType(f"the source is sent as application/gzip, not {kind}")
    raw = await request.body()
    if not raw.startswith(GZIP_MAGIC):
        raise BadBody("the body is not a gzipped tar archive (it does not start like gzip)")
    return raw


def _bad_at(pointer: str, message: str) -> NoReturn:
    problem = Problem(pointer=pointer, message=message, file=BODY)
    raise BadBody(f"{message} (at {pointer or '/'})", problems=[problem])


def _bad(message: str, line: int, column: int) -> NoReturn:
    problem = Problem(pointer="", message=message, file=BODY, line=line, column=column)
    where = f"line {line}, column {column}"
    raise BadBody(f"{message} (at {where})", problems=[problem])
