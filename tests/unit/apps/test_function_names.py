"""``function_names_called``: the functions a workflow needs code for."""

from __future__ import annotations

from typing import Any

from flowapp.apps import function_names_called
from flowapp.dsl.source import parse_text

NESTED = """\
document: {dsl: '1.0.3', namespace: default, name: nested, version: '1.0.0'}
use:
  functions:
    greet:
      call: http
      with: {method: get, endpoint: https://example.com}
    wrapped:
      call: enrich
  extensions:
    - audit:
        extend: all
        before:
          - record: {call: audit-log}
do:
  - first: {call: append}
  - web: {call: http, with: {method: get, endpoint: https://example.com}}
  - local: {call: greet}
  - cataloged: {call: "log:1.0.0@default"}
  - byUri: {call: "https://example.com/functions/thing.yaml"}
  - loop:
      for: {each: item, in: .items}
      do:
        - inLoop: {call: resize}
  - guarded:
      try:
        - inTry: {call: charge}
      catch:
        do:
          - inCatch: {call: refund}
  - parallel:
      fork:
        branches:
          - left: {call: left}
          - right: {do: [{deep: {call: deepest}}]}
  - waitFor:
      listen: {to: {one: {with: {type: x}}}}
      foreach:
        do:
          - perEvent: {call: per-event}
  - again: {call: append}
"""


def names(text: str) -> set[str]:
    return function_names_called(parse_text(text).data)


def test_every_nested_task_list_is_walked() -> None:
    assert names(NESTED) == {
        "append",
        "enrich",
        "audit-log",
        "resize",
        "charge",
        "refund",
        "left",
        "deepest",
        "per-event",
    }


def test_built_ins_workflow_functions_catalogs_and_uris_are_not_project_functions() -> None:
    found = names(NESTED)
    assert not found & {"http", "greet", "wrapped", "log:1.0.0@default"}
    assert not any("://" in name for name in found)


def test_a_workflow_without_calls_calls_nothing() -> None:
    text = "document: {dsl: '1.0.3', namespace: a, name: b, version: '1.0.0'}\n"
    assert names(text + "do:\n  - s: {set: {a: 1}}\n") == set()


def test_a_malformed_document_is_walked_without_failing() -> None:
    document: dict[str, Any] = {"do": [{"a": "not a task"}, "junk", {"b": {"call": 3}}]}
    assert function_names_called(document) == set()
    assert function_names_called({"do": {"not": "a list"}, "use": []}) == set()
