"""A value inside a parsed document seen as a document of its own."""

from __future__ import annotations

from flowapp.apps.subdocument import sub_document, under, value_at
from flowapp.dsl.problems import Problem
from flowapp.dsl.source import parse_text

TEXT = """\
spec:
  workflow:
    document: {name: inner}
    do:
      - first: {set: {a: 1}}
"""


def test_pointers_are_relative_and_lines_are_those_of_the_file() -> None:
    doc = parse_text(TEXT, "flowapp.yaml")
    inner = sub_document(doc, "/spec/workflow")
    assert inner.data == doc.data["spec"]["workflow"]
    assert inner.file == "flowapp.yaml"
    assert inner.locate("/do/0/first") == (5, 16)
    assert inner.locate("/document/name") == (3, 22)
    assert inner.locate("/nowhere") == (2, 3)  # the workflow key itself


def test_problems_move_back_under_the_prefix() -> None:
    problems = [Problem("/do/0", "bad", "f", 5, 7)]
    assert under("/spec/workflow", problems) == [Problem("/spec/workflow/do/0", "bad", "f", 5, 7)]


def test_value_at_follows_a_pointer_or_gives_none() -> None:
    data = {"a": [{"b/c": 1}]}
    assert value_at(data, "/a/0/b~1c") == 1
    assert value_at(data, "/a/1") is None
    assert value_at(data, "/a/x") is None
    assert value_at(data, "") == data
