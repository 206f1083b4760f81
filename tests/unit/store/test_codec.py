"""The store's JSON codec reads integers past 64 bits exactly, from bytes and from text."""

from __future__ import annotations

import pytest

from flowapp.store import codec


@pytest.mark.parametrize("text", ["[18446744073709551616]", '{"n": -1180591620717411303424}'])
@pytest.mark.parametrize("as_bytes", [False, True])
def test_integers_past_64_bits_stay_integers(text: str, as_bytes: bool) -> None:
    value = codec.loads(text.encode() if as_bytes else text)
    number = value[0] if isinstance(value, list) else value["n"]
    assert isinstance(number, int) and str(number) in text


def test_a_run_of_digits_in_a_string_reads_back_as_written() -> None:
    text = '{"id": "order-12345678901234567890", "at": 1765140000.123456, "é": "\\u00e9"}'
    assert codec.loads(text) == {
        "id": "order-12345678901234567890",
        "at": 1765140000.123456,
        "é": "é",
    }


def test_eighteen_digits_take_the_fast_path_and_stay_exact() -> None:
    assert codec.loads(b"[123456789012345678]") == [123456789012345678]
