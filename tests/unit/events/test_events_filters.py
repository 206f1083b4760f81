"""Knative Trigger filters: matching (table tests) and parsing with located errors."""

from __future__ import annotations

from typing import Any

import pytest

from flowapp.events.errors import SpecError
from flowapp.events.filters import (
    MATCH_ALL,
    AllOf,
    AnyOf,
    Attributes,
    Exact,
    Not,
    Prefix,
    Suffix,
    matches,
    parse_attributes,
    parse_filters,
    parse_trigger_filter,
)

EVENT: dict[str, Any] = {
    "specversion": "1.0",
    "id": "e-1",
    "source": "/orders/eu",
    "type": "com.example.order.created",
    "subject": "order-42",
    "region": "eu-west",  # extension
    "priority": 3,  # integer extension
    "urgent": True,  # boolean extension
    "data": {"type": "not-an-attribute"},
}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({}, True),
        ({"filter": {"attributes": {}}}, True),
        ({"filter": {"attributes": {"type": "com.example.order.created"}}}, True),
        ({"filter": {"attributes": {"type": "com.example.order.deleted"}}}, False),
        ({"filter": {"attributes": {"type": "com.example.order.created", "source": "/x"}}}, False),
        ({"filter": {"attributes": {"region": "eu-west"}}}, True),
        ({"filter": {"attributes": {"region": ""}}}, True),  # "" = any value
        ({"filter": {"attributes": {"tenant": ""}}}, False),  # but it must be present
        ({"filter": {"attributes": {"priority": "3"}}}, True),  # canonical text of an int
        ({"filter": {"attributes": {"urgent": "true"}}}, True),
        ({"filters": [{"exact": {"type": "com.example.order.created"}}]}, True),
        ({"filters": [{"exact": {"type": "com.example.order"}}]}, False),
        ({"filters": [{"prefix": {"type": "com.example."}}]}, True),
        ({"filters": [{"prefix": {"type": "org."}}]}, False),
        ({"filters": [{"suffix": {"type": ".created"}}]}, True),
        ({"filters": [{"suffix": {"source": "/us"}}]}, False),
        ({"filters": [{"prefix": {"region": "eu-"}}]}, True),
        ({"filters": [{"exact": {"tenant": "a"}}]}, False),  # missing extension
        ({"filters": [{"prefix": {"tenant": "a"}}]}, False),
        ({"filters": [{"not": {"exact": {"tenant": "a"}}}]}, True),  # not of missing
        ({"filters": [{"exact": {"data": "x"}}]}, False),  # data is not an attribute
        ({"filters": [{"not": {"prefix": {"type": "com."}}}]}, False),
        ({"filters": [{"prefix": {"type": "com."}}, {"suffix": {"type": ".deleted"}}]}, False),
        ({"filters": [{"prefix": {"type": "com."}}, {"exact": {"subject": "order-42"}}]}, True),
        (
            {
                "filters": [
                    {"any": [{"exact": {"region": "us"}}, {"prefix": {"region": "eu"}}]},
                    {
                        "all": [
                            {"exact": {"priority": "3"}},
                            {"not": {"exact": {"urgent": "false"}}},
                        ]
                    },
                ]
            },
            True,
        ),
        ({"filters": [{"any": [{"exact": {"region": "us"}}, {"exact": {"region": "ap"}}]}]}, False),
        ({"filters": [{"not": {"not": {"exact": {"id": "e-1"}}}}]}, True),
        # `filters` wins over `filter` (Knative's rule)
        (
            {
                "filter": {"attributes": {"type": "nope"}},
                "filters": [{"exact": {"id": "e-1"}}],
            },
            True,
        ),
        ({"filter": {"attributes": {"type": "nope"}}, "filters": []}, False),  # empty: ignored
    ],
)
def test_matches(spec: dict[str, Any], expected: bool) -> None:
    assert matches(parse_trigger_filter(spec), EVENT) is expected


def test_parsed_shapes() -> None:
    assert parse_trigger_filter({}) is MATCH_ALL
    assert parse_attributes({"attributes": {"type": "t"}}) == Attributes((("type", "t"),))
    assert parse_filters([{"exact": {"type": "t"}}]) == Exact("type", "t")
    nested = parse_filters(
        [
            {"prefix": {"source": "/a"}},
            {"any": [{"suffix": {"type": ".b"}}, {"not": {"exact": {"id": "c"}}}]},
        ]
    )
    assert nested == AllOf(
        (Prefix("source", "/a"), AnyOf((Suffix("type", ".b"), Not(Exact("id", "c")))))
    )


@pytest.mark.parametrize(
    ("spec", "pointer", "message"),
    [
        ({"filters": {"exact": {}}}, "/filters", "must be a list"),
        ({"filters": ["exact"]}, "/filters/0", "exactly one of"),
        ({"filters": [{"exact": {"a": "b"}, "prefix": {"a": "b"}}]}, "/filters/0", "exactly one"),
        ({"filters": [{"exact": {}}]}, "/filters/0/exact", "exactly one `attribute: value`"),
        (
            {"filters": [{"exact": {"type": "a", "id": "b"}}]},
            "/filters/0/exact",
            "exactly one `attribute: value`",
        ),
        ({"filters": [{"exact": {"type": ""}}]}, "/filters/0/exact/type", "must not be empty"),
        ({"filters": [{"prefix": {"Type": "a"}}]}, "/filters/0/prefix/Type", "start with a letter"),
        ({"filters": [{"suffix": {"9x": "a"}}]}, "/filters/0/suffix/9x", "start with a letter"),
        ({"filters": [{"exact": {"type": 3}}]}, "/filters/0/exact/type", "must be a string"),
        ({"filters": [{"all": []}]}, "/filters/0/all", "non-empty list"),
        ({"filters": [{"any": {"exact": {}}}]}, "/filters/0/any", "non-empty list"),
        ({"filters": [{"not": []}]}, "/filters/0/not", "exactly one of"),
        ({"filters": [{"cesql": "type = 'a'"}]}, "/filters/0/cesql", "CESQL filters are not"),
        ({"filters": [{"regex": {"type": "a"}}]}, "/filters/0/regex", "unknown"),
        (
            {"filters": [{"all": [{"exact": {"a": "b"}}, {"not": {"exact": {"a": ""}}}]}]},
            "/filters/0/all/1/not/exact/a",
            "must not be empty",
        ),
        ({"filter": "type=a"}, "/filter", "must be an object"),
        ({"filter": {"attributes": ["type"]}}, "/filter/attributes", "must be an object"),
        ({"filter": {"attribute": {"type": "a"}}}, "/filter/attribute", "unknown key"),
        ({"filter": {"attributes": {"type": 1}}}, "/filter/attributes/type", "must be a string"),
        ({"filter": {"attributes": {"a/b": "x"}}}, "/filter/attributes/a~1b", "start with a"),
    ],
)
def test_parse_errors_say_where(spec: dict[str, Any], pointer: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_trigger_filter(spec)
    found = [(p.pointer, p.message) for p in caught.value.problems]
    assert any(p == pointer and message in m for p, m in found), found


def test_every_problem_is_reported_at_once() -> None:
    spec = {"filters": [{"exact": {"type": ""}}, {"prefix": {"Bad": "x"}}, {"all": []}]}
    with pytest.raises(SpecError) as caught:
        parse_trigger_filter(spec, pointer="/spec/subscriptions/0")
    pointers = [p.pointer for p in caught.value.problems]
    assert pointers == [
        "/spec/subscriptions/0/filters/0/exact/type",
        "/spec/subscriptions/0/filters/1/prefix/Bad",
        "/spec/subscriptions/0/filters/2/all",
    ]
    assert "/spec/subscriptions/0/filters/0/exact/type: value must not be empty" in str(
        caught.value
    )
