"""Executions named by a unique prefix of their id, as git names commits.

Every command that takes an execution id takes the start of one: the exact id is looked
up first, then the executions whose id starts with what was given. None is an error
that says how to list them; several is an error that lists them, so that the person
can give a few more characters.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from flowapp.cli.failures import ApiError, InvalidInput

SHOWN = 10
SHAPE = re.compile(r"[0-9A-Za-z_-]{1,64}")


def pick(prefix: str, candidates: list[dict[str, Any]], *, more: bool = False) -> str:
    """The one execution ``prefix`` names among ``candidates`` (the API's JSON)."""
    if len(candidates) == 1:
        return str(candidates[0]["id"])
    if not candidates:
        raise InvalidInput(f"no execution {prefix}", hint="`flowapp executions` lists them")
    lines = [
        f"  {c['id']}  {c.get('app') or '-'}  {c['status']}  {c.get('started_at') or ''}"
        for c in candidates
    ]
    if more:
        lines.append("  …")
    raise InvalidInput(
        f"{prefix} is the start of several executions:\n" + "\n".join(lines),
        hint="give more of the id",
    )


def resolve_local(store: Any, prefix: str) -> str:
    from flowapp.server.views import execution_json
    from flowapp.store.port import ExecutionFilter

    if store.get_execution(prefix) is not None:
        return prefix
    if not SHAPE.fullmatch(prefix):
        return pick(prefix, [])
    page = store.list_executions(ExecutionFilter(id_prefix=prefix), limit=SHOWN)
    items = [execution_json(record) for record in page.items]
    return pick(prefix, items, more=page.next_cursor is not None)


def resolve_remote(api: Any, prefix: str) -> str:
    try:
        api.request("GET", f"/api/v1/executions/{quote(prefix, safe='')}")
        return prefix
    except ApiError as error:
        if error.problem.get("status") != 404:
            raise
    if not SHAPE.fullmatch(prefix):
        return pick(prefix, [])
    params = {"id_prefix": prefix, "limit": SHOWN}
    page = api.request("GET", "/api/v1/executions", params=params).json()
    return pick(prefix, page["items"], more=page.get("next_cursor") is not None)
