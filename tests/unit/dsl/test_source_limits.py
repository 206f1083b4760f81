"""Reading a document costs at most what its ``Limits`` allow: aliases and merges are
counted as they expand, nesting and size are bounded, and with a clock so is the time.
A document past a limit is a ``DocumentTooLarge`` with one located problem."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from flowapp.dsl.source import DocumentTooLarge, Limits, parse_text

# Nine levels of nine aliases: 387 million strings once expanded, in 430 bytes.
BOMB = """\
kind: Bomb
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def refusal(text: str, limits: Limits | None = None) -> str:
    with pytest.raises(DocumentTooLarge) as refused:
        parse_text(text, "flowapp.yaml", limits=limits or Limits())
    [problem] = refused.value.problems
    assert problem.file == "flowapp.yaml"
    return str(problem)


def nested_flow(depth: int) -> str:
    return "a: " + "[" * depth + "]" * depth + "\n"


def nested_block(depth: int) -> str:
    keys = "".join("  " * level + f"k{level}:\n" for level in range(depth))
    return keys + "  " * depth + "v: 1\n"


def test_the_alias_bomb_is_refused_at_the_alias_that_crosses_the_limit() -> None:
    assert 420 <= len(BOMB.encode()) <= 440
    message = refusal(BOMB)
    assert "more than 100,000 values" in message and "alias" in message
    assert message.startswith("flowapp.yaml:7:")  # f: the first level past 100,000


def test_a_chain_of_merges_is_counted_as_it_expands() -> None:
    chain = "a0: &a0 {k: 1}\n" + "".join(
        f"a{i}: &a{i} {{<<: *a{i - 1}, k{i}: 1}}\n" for i in range(1, 3000)
    )
    assert "more than 100,000 values" in refusal(chain)


def test_anchors_and_merges_within_the_limits_read_as_usual() -> None:
    text = "base: &base {x: 1}\nuse: {<<: *base, y: 2}\nboth: [*base, *base]\n"
    data = parse_text(text).data
    assert data == {"base": {"x": 1}, "use": {"y": 2, "x": 1}, "both": [{"x": 1}, {"x": 1}]}


def test_values_are_counted_once_each_without_aliases() -> None:
    text = "a: [" + ", ".join(["1"] * 99) + "]\n"  # 102 with the root, the key and the list
    parse_text(text, limits=Limits(max_values=102))
    assert "more than 101 values" in refusal(text, Limits(max_values=101))


@pytest.mark.parametrize("shape", [nested_flow, nested_block])
def test_nesting_is_bounded(shape: Callable[[int], str]) -> None:
    parse_text(shape(62))  # with the root mapping and the innermost value: within 64
    assert "nested deeper than 64 levels" in refusal(shape(1000))


def test_a_thousand_brackets_are_refused_at_the_first_level_too_many() -> None:
    message = refusal("a: " + "[" * 1000)  # not even closed: refused before the end
    assert message.startswith("flowapp.yaml:1:")


@pytest.mark.parametrize(
    ("text", "value"), [("a: &x [*x]\n", {"a": [None]}), ("a: &x {b: *x}\n", {"a": {"b": None}})]
)
def test_an_alias_inside_its_own_anchor_does_not_recurse(text: str, value: Any) -> None:
    # The alias names a node still being read: it is null, not the node itself (a value
    # that contains itself would recurse in every reader after this one).
    assert parse_text(text).data == value


def test_the_text_is_bounded_before_it_is_parsed() -> None:
    assert "over the limit of 64" in refusal("a: " + "x" * 100, Limits(max_bytes=64))


def test_with_a_clock_the_time_spent_is_bounded() -> None:
    ticks = itertools.count()
    slow = Limits(max_seconds=5, clock=lambda: float(next(ticks)))  # a second per look
    text = "a: [" + ", ".join(["1"] * 5000) + "]\n"
    assert "took more than 5 s to read" in refusal(text, slow)
    parse_text(text)  # without a clock, only the counts bound it


def test_json_is_held_to_the_same_limits() -> None:
    assert "nested deeper than 64 levels" in refusal('{"a": ' + "[" * 100 + "]" * 100 + "}")
