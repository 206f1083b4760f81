"""The rules every adapter shares (``flowapp.store.rules``)."""

from __future__ import annotations

import pytest

from flowapp.store import StoreError
from flowapp.store.rules import (
    decode_cursor,
    encode_cursor,
    json_copy,
    may_match,
    subscription_event_type,
)


@pytest.mark.parametrize("position", [(0.0, ""), (1_700_000_000.123456, "e-1/é"), (1e-9, "x")])
def test_cursors_round_trip_exactly(position: tuple[float, str]) -> None:
    cursor = encode_cursor(*position)
    assert "=" not in cursor and "/" not in cursor and "+" not in cursor
    assert decode_cursor(cursor) == position


@pytest.mark.parametrize("cursor", ["", "!!", "e30", encode_cursor(1.0, "a")[:-2], "WzEsMl0"])
def test_foreign_cursors_are_value_errors(cursor: str) -> None:
    with pytest.raises(ValueError, match="invalid cursor"):
        decode_cursor(cursor)


@pytest.mark.parametrize(
    ("alternatives", "expected"),
    [
        ([], None),
        ([{"type": "a"}], "a"),
        ([{"type": "a", "source": "s"}, {"type": "a"}], "a"),
        ([{"type": "a"}, {"type": "b"}], None),
        ([{"type": "a"}, {"source": "s"}], None),
        ([{"source": "s"}], None),
    ],
)
def test_the_event_type_is_kept_only_when_every_alternative_agrees(
    alternatives: list[dict[str, str]], expected: str | None
) -> None:
    assert subscription_event_type(alternatives) == expected


def test_matching_is_exact_per_alternative() -> None:
    event = {"type": "a", "source": "s", "subject": 1}
    assert may_match([], event)
    assert may_match([{"type": "a", "source": "s"}], event)
    assert not may_match([{"type": "a", "source": "t"}], event)
    assert may_match([{"type": "b"}, {"source": "s"}], event)
    assert not may_match([{"subject": "1"}], event)  # exact: no coercion
    assert not may_match([{"missing": "x"}], event)


def test_json_copy_behaves_like_a_database() -> None:
    value = {"items": (1, 2), "nested": {"a": [None]}}
    copied = json_copy(value)
    assert copied == {"items": [1, 2], "nested": {"a": [None]}}
    assert copied["nested"] is not value["nested"]
    assert json_copy(None) is None
    with pytest.raises(StoreError, match="not JSON"):
        json_copy({"bad": {1, 2}})
