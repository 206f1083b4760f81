"""Reading what users pass on the command line: JSON inputs, secrets, events, files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flowapp.dsl.problems import DefinitionError, Problem


def read_json_argument(value: str, *, option: str) -> Any:
    """``--input '{"a": 1}'`` or ``--input @file.json``; a clear error with a location."""
    source = f"{option} argument"
    text = value
    if value.startswith("@"):
        path = Path(value[1:])
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise DefinitionError(
                [Problem("", f"cannot read: {exc.strerror}", file=source)]
            ) from None
        except UnicodeDecodeError:
            raise DefinitionError([Problem("", "is not UTF-8 text", file=source)]) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        problem = Problem(
            "", f"is not JSON: {exc.msg}", file=source, line=exc.lineno, column=exc.colno
        )
        raise DefinitionError([problem]) from None


def read_events(values: list[str]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for value in values:
        parsed = read_json_argument(value, option="--event")
        items = parsed if isinstance(parsed, list) else [parsed]
        for index, item in enumerate(items):
            if not isinstance(item, dict) or "type" not in item:
                where = f"/{index}" if isinstance(parsed, list) else ""
                raise DefinitionError(
                    [Problem(where, "an event needs at least a `type`", file=value)]
                )
            events.append(item)
    return events


def read_secrets(values: list[str]) -> dict[str, Any]:
    """``--secret name=VALUE`` (VALUE is JSON if it parses, else a string) or ``@file.json``."""
    secrets: dict[str, Any] = {}
    for value in values:
        if value.startswith("@"):
            loaded = read_json_argument(value, option="--secret")
            if not isinstance(loaded, dict):
                raise DefinitionError(
                    [Problem("", "a secrets file holds a JSON object", file=value[1:])]
                )
            secrets.update(loaded)
            continue
        name, separator, raw = value.partition("=")
        if not separator or not name:
            raise DefinitionError([Problem("", "expected NAME=VALUE", file=f"--secret {value}")])
        try:
            secrets[name] = json.loads(raw)
        except json.JSONDecodeError:
            secrets[name] = raw
    return secrets
