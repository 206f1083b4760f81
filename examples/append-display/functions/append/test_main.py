"""Unit tests of `append`: plain pytest, run with `python -m pytest` in this folder."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from main import handle

from flowapp.functions.sdk import FunctionError


def make_context() -> SimpleNamespace:
    """A stand-in for the platform's call context, with the same attributes."""
    return SimpleNamespace(
        execution_id="test-execution",
        task_reference="/do/0/append",
        attempt=1,
        idempotency_key="test-execution/do/0/append/1",
        logger=logging.getLogger("test.append"),
        attributes={},
    )


def test_appends_the_suffix_from_with() -> None:
    assert handle({"message": "hello", "suffix": "?"}, make_context()) == {"message": "hello?"}


def test_the_default_suffix_is_an_exclamation_mark() -> None:
    assert handle({"message": "hello"}, make_context()) == {"message": "hello!"}


def test_a_missing_message_is_a_422() -> None:
    with pytest.raises(FunctionError) as raised:
        handle({"suffix": "!"}, make_context())
    assert raised.value.status == 422
