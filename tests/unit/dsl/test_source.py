"""Parsing text into plain data that knows where each value was written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flowapp.dsl.problems import DefinitionError, Problem
from flowapp.dsl.source import SourceDocument, parse_text, read_source

FIXTURES = Path(__file__).parents[2] / "fixtures"

WORKFLOW = """\
# a comment first
document:
  dsl: '1.0.3'
  namespace: test
  name: sample
  version: '1.0.0'
  created: 2024-05-01
  at: 2024-05-01T10:00:00Z
do:
  - first:
      set: {count: 1, ratio: 0.5, on: yes, nothing: null, items: [a, b]}
  - second:
      call: http
      with:
        method: get
        endpoint: https://example.com/a~b/c
      then: end
  - "a/b~c":
      wait:
        seconds: 5
  - empty:
      set:
"""


def _plain_types(value: Any) -> set[type]:
    if isinstance(value, dict):
        return {dict}.union(*(_plain_types(v) for v in value.values()), *map(_plain_types, value))
    if isinstance(value, list):
        return {list}.union(*map(_plain_types, value))
    return {type(value)}


def _syntax_problem(text: str) -> Problem:
    with pytest.raises(DefinitionError) as caught:
        parse_text(text, "bad.yaml")
    (problem,) = caught.value.problems
    assert problem.file == "bad.yaml"
    return problem


def test_data_is_plain_json_values() -> None:
    doc = parse_text(WORKFLOW, "sample.yaml")
    assert _plain_types(doc.data) <= {dict, list, str, int, float, bool, type(None)}
    assert doc.data["do"][0]["first"]["set"] == {
        "count": 1,
        "ratio": 0.5,
        "on": "yes",  # YAML 1.2: `yes` and `on` are strings, not booleans
        "nothing": None,
        "items": ["a", "b"],
    }


def test_timestamps_stay_the_text_written() -> None:
    document = parse_text(WORKFLOW).data["document"]
    assert document["created"] == "2024-05-01"
    assert document["at"] == "2024-05-01T10:00:00Z"


def test_json_is_read_by_the_same_loader() -> None:
    doc = parse_text('{\n\t"document": {"dsl": "1.0.3"},\n\t"do": [{"a": {"wait": "PT1S"}}]\n}')
    assert doc.data == {"document": {"dsl": "1.0.3"}, "do": [{"a": {"wait": "PT1S"}}]}
    assert doc.locate("/do/0/a/wait") == (3, 24)  # a tab is one column


@pytest.mark.parametrize(
    ("pointer", "position"),
    [
        ("", (2, 1)),  # the root starts at its first key, after the comment
        ("/document/dsl", (3, 8)),  # a scalar: where its value starts
        ("/document", (2, 1)),  # a block mapping: at its key, not on the next line
        ("/do", (9, 1)),
        ("/do/0", (10, 5)),  # a list item: where the item starts
        ("/do/0/first/set", (11, 12)),  # a flow mapping: at its `{`
        ("/do/0/first/set/items/1", (11, 70)),
        ("/do/0/first/set/nothing", (11, 53)),
        ("/do/1/second/with/endpoint", (16, 19)),
        ("/do/3/empty/set", (22, 7)),  # an empty value: at its key
        ("/do/2/a~1b~0c/wait/seconds", (20, 18)),  # escaped pointer tokens
    ],
)
def test_locate_gives_the_line_and_column_of_a_value(
    pointer: str, position: tuple[int, int]
) -> None:
    assert parse_text(WORKFLOW).locate(pointer) == position


def test_locate_falls_back_to_the_nearest_existing_ancestor() -> None:
    doc = parse_text(WORKFLOW)
    assert doc.locate("/do/1/second/with/uri") == doc.locate("/do/1/second/with")
    assert doc.locate("/do/7/missing") == doc.locate("/do")
    assert doc.locate("/nowhere") == doc.locate("")


def test_keys_merged_in_have_the_position_of_their_mapping() -> None:
    doc = parse_text("base: &base {a: 1}\nthing:\n  <<: *base\n  b: 2\n")
    assert doc.data["thing"] == {"b": 2, "a": 1}
    assert doc.locate("/thing/b") == (4, 6)
    assert doc.locate("/thing/a") == doc.locate("/thing") == (2, 1)


def test_problem_fills_file_line_and_column() -> None:
    doc = parse_text(WORKFLOW, "sample.yaml")
    problem = doc.problem("/do/1/second/then", "no")
    assert problem == Problem("/do/1/second/then", "no", "sample.yaml", 17, 13)
    assert str(problem) == "sample.yaml:17:13: /do/1/second/then: no"


def test_non_string_keys_are_written_as_json_would() -> None:
    assert parse_text("200: ok\ntrue: yes\n~: none\n").data == {
        "200": "ok",
        "true": "yes",
        "null": "none",
    }


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ("a: 1\nb: [1, 2\n", 3, 1, "YAML syntax error"),
        ("a:\n  b: 1\n c: 2\n", 3, 2, "YAML syntax error"),
        ("do: 1\nname: x\ndo: 2\n", 3, 1, "duplicate key 'do'"),
        ("- a\n- b\n", 1, 1, "must be a mapping of keys to values, found a list"),
        ("just text\n", 1, 1, "must be a mapping of keys to values, found `just text`"),
        ("# nothing but a comment\n", 1, 1, "the document is empty"),
        ("", 1, 1, "the document is empty"),
        ("a: 1\nb: .inf\n", 2, 4, "`inf` is not a JSON number"),
        ("? [a, b]\n: 1\n", 1, 1, "a mapping key must be a string"),
        ("a: b\x07\n", 1, 5, "character U+0007 is not allowed"),
    ],
)
def test_unusable_text_is_one_problem_at_its_place(
    text: str, line: int, column: int, words: str
) -> None:
    problem = _syntax_problem(text)
    assert (problem.line, problem.column) == (line, column)
    assert words in problem.message


def test_read_source_reads_a_file() -> None:
    path = FIXTURES / "spec" / "examples" / "set.yaml"
    doc = read_source(path)
    assert doc.file == str(path)
    assert doc.data["document"]["name"] == "set"


def test_read_source_reports_bytes_that_are_not_utf8() -> None:
    path = FIXTURES / "invalid" / "syntax-not-utf8.yaml"
    with pytest.raises(DefinitionError) as caught:
        read_source(path)
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.column) == (str(path), 11, 22)
    assert "not UTF-8" in problem.message


@pytest.mark.parametrize("path", [FIXTURES / "no-such-file.yaml", FIXTURES])
def test_read_source_reports_a_file_it_cannot_read(path: Path) -> None:
    with pytest.raises(DefinitionError) as caught:
        read_source(path)
    (problem,) = caught.value.problems
    assert problem.file == str(path)
    assert problem.message.startswith("cannot read the file")


def test_documents_compare_by_file_and_data() -> None:
    assert parse_text("a: 1", "x") == SourceDocument("x", {"a": 1})
    assert parse_text("a: 1", "x") != parse_text("a: 2", "x")


def test_every_task_of_a_two_thousand_line_document_is_located() -> None:
    lines = ["document: {dsl: '1.0.3', namespace: ns, name: big, version: '1.0.0'}", "do:"]
    for i in range(333):
        lines += [f"  - task{i}:", "      call: http", "      with:", "        method: get"]
        lines += [f"        endpoint: https://example.com/{i}", "      then: end"]
    doc = parse_text("\n".join(lines))
    for i in range(333):
        assert doc.locate(f"/do/{i}/task{i}/then") == (3 + 6 * i + 5, 13)
