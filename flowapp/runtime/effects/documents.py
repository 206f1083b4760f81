"""Documents that ``call: openapi`` fetches, read under the limits of a request's documents.

The server that answers with an OpenAPI description is an outside service: its answer is
data, and it may be hostile or broken. Without limits, an endless body would fill the
server's memory, and 430 bytes of YAML aliases would cost minutes and gigabytes on the
event loop (where effects run). So, as for every document a request brings
(``docs/security.md``, "YAML: bounded before it is expanded"):

- the body is read up to :data:`DOCUMENT_LIMITS` ``max_bytes`` (1 MiB) and refused past
  it, before the rest arrives (a ``Content-Length`` over it is refused before any byte);
- it is parsed in a worker thread, never on the event loop: YAML by the limited reader of
  ``flowapp.dsl.source`` (nesting, values with aliases counted as they expand, a time
  budget), JSON by orjson and then checked for nesting, since engine and stores walk it.

A document refused is a :class:`DocumentRefused` whose message says which limit; the task
faults with a communication error (502) carrying it.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import orjson

from flowapp.dsl.problems import DefinitionError
from flowapp.dsl.source import Limits, parse_text

if TYPE_CHECKING:
    import aiohttp

# The limits of a request's documents (``flowapp.apps.project.DOCUMENT_LIMITS``).
DOCUMENT_LIMITS = Limits(clock=time.monotonic)
_CHUNK = 1 << 16


class DocumentRefused(ValueError):
    """A fetched document past a limit, or not a document at all; the message says why."""


async def read_capped(response: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    """The body, or ``DocumentRefused`` as soon as it is known to be over ``max_bytes``."""
    declared = response.content_length
    if declared is not None and declared > max_bytes:
        raise DocumentRefused(_over(f"{declared:,} bytes (Content-Length)", max_bytes))
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise DocumentRefused(_over(f"more than {max_bytes:,} bytes", max_bytes))
        chunks.append(chunk)
    return b"".join(chunks)


def _over(size: str, limit: int) -> str:
    return f"the document is {size}, over the limit of {limit:,}"


async def parse_document(text: str, url: str, limits: Limits = DOCUMENT_LIMITS) -> Any:
    """The document's data, parsed in a worker thread under ``limits``."""
    return await asyncio.to_thread(parse_document_now, text, url, limits)


def parse_document_now(text: str, url: str, limits: Limits = DOCUMENT_LIMITS) -> Any:
    """Blocking: JSON if it reads as JSON, else YAML through the limited reader."""
    if len(text.encode("utf-8", "surrogatepass")) > limits.max_bytes:
        raise DocumentRefused(_over(f"{len(text):,} characters", limits.max_bytes))
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            value = orjson.loads(stripped)
        except orjson.JSONDecodeError:
            pass  # YAML's flow style starts with a brace too
        else:
            _check_depth(value, limits.max_depth)
            return value
    try:
        return parse_text(text, url, what="an OpenAPI document", limits=limits).data
    except DefinitionError as exc:
        problem = exc.problems[0]
        where = f"line {problem.line}: " if problem.line else ""
        raise DocumentRefused(f"{where}{problem.message}") from None


def _check_depth(value: Any, max_depth: int) -> None:
    """Nesting deeper than ``max_depth`` is refused (without recursion, so any depth
    orjson accepts is walked safely)."""
    pending: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, dict | list) else []
    while pending:
        current, depth = pending.pop()
        if depth > max_depth:
            raise DocumentRefused(f"the document is nested deeper than {max_depth} levels")
        children = current.values() if isinstance(current, dict) else current
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
