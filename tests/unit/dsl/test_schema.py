"""Schema validation: the official verdict, told per task type, at the right place."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML

from flowapp.dsl.schema import (
    _official,
    check_dsl_version,
    check_schema,
    official_schema_problems,
)
from flowapp.dsl.source import SourceDocument, parse_text

SCHEMA = Path(__file__).parents[3] / "flowapp" / "dsl" / "schema" / "workflow.yaml"
HEADER = "document: {dsl: '1.0.3', namespace: test, name: unit, version: '1.0.0'}\n"


@cache
def official() -> Draft202012Validator:
    return Draft202012Validator(YAML(typ="safe", pure=True).load(SCHEMA.read_text("utf-8")))


def problems(body: str) -> list[tuple[str, str]]:
    return [(p.pointer, p.message) for p in check_schema(parse_text(HEADER + body))]


def test_a_valid_document_has_no_problems() -> None:
    assert problems("do:\n  - a: {set: {x: 1}}\n") == []


def test_unknown_property_is_reported_at_the_property_of_the_meant_call() -> None:
    body = """do:
  - getPet:
      call: http
      with:
        method: get
        endpoint: https://example.com/pets/1
        uri: https://example.com/pets/1
"""
    assert problems(body) == [
        (
            "/do/0/getPet/with/uri",
            "unknown property 'uri' "
            "(expected one of: body, endpoint, headers, method, output, query, redirect)",
        )
    ]


def test_unknown_property_suggests_a_close_name() -> None:
    assert problems("do:\n  - a: {call: http, with: {methd: get, endpoint: 'https://x'}}\n") == [
        ("/do/0/a", "missing required property 'with.method'"),
        ("/do/0/a/with/methd", "unknown property 'methd'; did you mean 'method'?"),
    ]


def test_missing_property_is_reported_at_the_task_with_its_path() -> None:
    body = "do:\n  - a: {set: {x: 1}}\n  - x: {call: http, with: {endpoint: 'https://x'}}\n"
    assert problems(body) == [("/do/1/x", "missing required property 'with.method'")]


def test_missing_property_under_a_list_item_is_reported_at_the_item() -> None:
    body = "do:\n  - pick:\n      switch:\n        - red: {when: .red}\n"
    assert problems(body) == [("/do/0/pick/switch/0", "missing required property 'red.then'")]


def test_missing_property_outside_tasks_is_reported_at_its_object() -> None:
    text = "document: {dsl: '1.0.3', namespace: t, name: n}\ndo:\n  - a: {set: {x: 1}}\n"
    assert [(p.pointer, p.message) for p in check_schema(parse_text(text))] == [
        ("/document", "missing required property 'version'")
    ]


@pytest.mark.parametrize(
    ("task", "message"),
    [
        ("{a: {set: {x: 1}}, b: {set: {y: 1}}}", "found 2: a, b"),
        ("{}", "found none"),
    ],
)
def test_a_task_list_item_holds_exactly_one_task(task: str, message: str) -> None:
    assert problems(f"do:\n  - {task}\n") == [
        ("/do/0", f"a task list item must hold exactly one task, {message}")
    ]


def test_a_task_without_a_known_type() -> None:
    assert problems("do:\n  - a: {print: hello}\n") == [
        (
            "/do/0/a",
            "unknown task type: expected one of "
            "call, do, emit, for, fork, listen, raise, run, set, switch, try, wait",
        )
    ]


def test_a_task_with_two_types() -> None:
    assert problems("do:\n  - a: {set: {x: 1}, wait: PT1S}\n") == [
        ("/do/0/a", "a task must have exactly one type, found set, wait")
    ]


def test_a_task_that_is_not_a_mapping() -> None:
    assert problems("do:\n  - a: hello\n") == [
        ("/do/0/a", "a task must be a mapping, found a string")
    ]


def test_a_for_task_holds_do_and_a_try_task_holds_catch() -> None:
    body = """do:
  - loop:
      for: {in: .items}
      do:
        - attempt:
            try:
              - inner: {set: {x: 1}}
            catch: {as: failure}
"""
    assert problems(body) == []


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            "{call: grpc, with: {method: M}}",
            "missing required properties 'with.proto' and 'with.service'",
        ),
        ("{call: myFunction, with: 5}", "expected an object (mapping), found an integer"),
        ("{call: myFunction, with: {anything: [1, 2]}}", None),
    ],
)
def test_a_call_is_judged_by_its_call_type(call: str, message: str | None) -> None:
    found = [m for _, m in problems(f"do:\n  - a: {call}\n")]
    assert found == ([message] if message else [])


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("5 minutes", "`5 minutes` is not a valid duration: expected an ISO 8601 duration such as"),
        ("true", "expected an object (mapping) or a string, found a boolean (true or false)"),
        ("{seconds: 1.5}", "expected an integer, found a number"),
    ],
)
def test_alternatives_are_explained_by_the_one_that_fits(value: str, message: str) -> None:
    (found,) = problems(f"do:\n  - a:\n      wait: {value}\n")
    assert found[1].startswith(message)


def test_a_false_schema_points_at_the_forbidden_property() -> None:
    body = """do:
  - a:
      listen:
        to:
          any: []
          until: {any: [], until: '${ true }'}
"""
    assert problems(body) == [
        ("/do/0/a/listen/to/until/until", "property 'until' is not allowed here")
    ]


def test_problems_are_distinct_and_in_file_order() -> None:
    body = """do:
  - b: {set: 1}
  - a: {wait: soon}
  - c: {set: 2}
"""
    found = check_schema(parse_text(HEADER + body))
    assert [p.pointer for p in found] == ["/do/0/b/set", "/do/1/a/wait", "/do/2/c/set"]
    assert [p.line for p in found] == [3, 4, 5]


@pytest.mark.parametrize("version", ["1.0.0", "1.0.1", "1.0.3", "1.0.0-alpha5"])
def test_supported_dsl_versions(version: str) -> None:
    doc = parse_text(HEADER.replace("1.0.3", version) + "do:\n  - a: {set: {x: 1}}\n")
    assert check_dsl_version(doc) == []


@pytest.mark.parametrize("version", ["0.9.0", "1.0.4", "1.1.0", "2.0.0"])
def test_unsupported_dsl_versions(version: str) -> None:
    doc = parse_text(HEADER.replace("1.0.3", version) + "do:\n  - a: {set: {x: 1}}\n")
    (problem,) = check_schema(doc)
    assert problem.pointer == "/document/dsl"
    assert problem.message == f"unsupported DSL version {version}; flowapp reads 1.0.0 to 1.0.3"
    assert official_schema_problems(doc) == []  # the official schema accepts any semver


EDGE_CASES: list[Any] = [
    {"a": {"for": {"in": ".x"}, "do": []}},
    {"a": {"try": [], "catch": {}}},
    {"a": {"do": [], "try": [], "catch": {}}},
    {"a": {"for": {"in": ".x"}, "do": [], "set": {"x": 1}}},
    {"a": {"call": 5}},
    {"a": {"call": "http", "with": {"method": "get", "endpoint": "https://x"}}},
    {"a": {"call": "http"}},
    {"a": {"call": "custom", "with": {"x": 1}, "then": "end"}},
    {"a": {"call": "custom", "wait": "PT1S"}},
    {"a": {"catch": {}}},
    {"a": []},
    {"a": None},
    {"a": {"set": {}}},
    {"a": {"set": "${ . }", "if": ".x", "metadata": {}}},
    {"a": {"run": {"shell": {"command": "ls"}, "await": False}}},
    {"a": {"run": {}}},
]


@pytest.mark.parametrize("item", EDGE_CASES, ids=lambda item: str(item)[:60])
def test_verdicts_equal_the_official_schema(item: Any) -> None:
    data = {"document": {"dsl": "1.0.3", "namespace": "t", "name": "t", "version": "1.0.0"}}
    data["do"] = [item]
    accepted = not official_schema_problems(SourceDocument("<test>", data))
    assert accepted == official().is_valid(data)


def nested(depth: int) -> SourceDocument:
    """A workflow whose ``do`` lists are nested ``depth`` deep, with one task at the bottom."""
    lines, indent = [HEADER.rstrip(), "do:"], "  "
    for level in range(depth):
        lines += [f"{indent}- level{level}:", f"{indent}    do:"]
        indent += "      "
    lines += [f"{indent}- leaf:", f"{indent}    set: {{x: 1}}"]
    return parse_text("\n".join(lines))


def test_nesting_does_not_make_validation_exponential(monkeypatch: pytest.MonkeyPatch) -> None:
    # The work is counted, not timed: each subschema the validator applies is one descent.
    validator = type(_official().validator)
    descend, descents = validator.descend, [0]

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        descents[0] += 1
        return descend(self, *args, **kwargs)

    monkeypatch.setattr(validator, "descend", counted)
    work = {}
    for depth in (6, 12):
        descents[0] = 0
        assert check_schema(nested(depth)) == []
        work[depth] = descents[0]
    # Each level adds the same work; the official oneOf/unevaluatedProperties form
    # multiplies it at each level (it took minutes at depth 12).
    assert 0 < work[6] < work[12] < 2 * work[6]


def test_the_json_copy_the_validator_loads_is_the_official_schema() -> None:
    copy = SCHEMA.with_suffix(".json")
    regenerate = (
        'python -c "import json, pathlib; from ruamel.yaml import YAML; p = pathlib.Path('
        f"'{SCHEMA.relative_to(SCHEMA.parents[3])}'); p.with_suffix('.json').write_text("
        "json.dumps(YAML(typ='safe', pure=True).load(p.read_text('utf-8')), indent=1, "
        "ensure_ascii=False) + '\\n', 'utf-8')\""
    )
    loaded = json.loads(copy.read_text("utf-8"))
    assert loaded == YAML(typ="safe", pure=True).load(SCHEMA.read_text("utf-8")), regenerate
