"""The author's view of a call: Context built from CloudEvent attributes, FunctionError."""

from __future__ import annotations

import logging

import pytest

from flowapp.functions.sdk import Context, FunctionError, build_context

ATTRIBUTES = {
    "specversion": "1.0",
    "id": "e1/do/0/append/2",
    "source": "/flowapp/shop/append",
    "type": "dev.flowapp.function.invoked",
    "flowappexecution": "e1",
    "flowapptask": "/do/0/append",
    "flowappattempt": "2",
}


def test_context_carries_the_engine_attributes() -> None:
    context = build_context(ATTRIBUTES, logger=logging.getLogger("test"))

    assert context.execution_id == "e1"
    assert context.task_reference == "/do/0/append"
    assert context.attempt == 2
    assert context.idempotency_key == "e1/do/0/append/2"
    assert context.attributes["source"] == "/flowapp/shop/append"


def test_context_is_frozen_and_attributes_read_only() -> None:
    context = build_context(ATTRIBUTES, logger=logging.getLogger("test"))

    with pytest.raises(AttributeError):
        context.attempt = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        context.attributes["id"] = "other"  # type: ignore[index]


@pytest.mark.parametrize(("value", "attempt"), [(None, 1), ("x", 1), (3, 3), ("0", 1)])
def test_missing_or_unreadable_attempt_means_first(value: object, attempt: int) -> None:
    attributes = {**ATTRIBUTES, "flowappattempt": value}

    assert build_context(attributes, logger=logging.getLogger("t")).attempt == attempt


def test_a_call_outside_an_execution_has_no_ids() -> None:
    context = build_context({"id": "1", "source": "/s", "type": "t"}, logger=logging.getLogger())

    assert (context.execution_id, context.task_reference) == (None, None)


def test_logger_records_carry_execution_and_task(caplog: pytest.LogCaptureFixture) -> None:
    context: Context = build_context(ATTRIBUTES, logger=logging.getLogger("flowapp.function.x"))

    with caplog.at_level(logging.INFO):
        context.logger.info("hello %s", "world")

    (record,) = caplog.records
    assert record.getMessage() == "hello world"
    assert record.name == "flowapp.function.x"
    assert (record.execution_id, record.task_reference) == ("e1", "/do/0/append")  # type: ignore[attr-defined]


def test_logger_follows_the_parent_level(caplog: pytest.LogCaptureFixture) -> None:
    parent = logging.getLogger("flowapp.function.quiet")
    parent.setLevel(logging.WARNING)
    context = build_context(ATTRIBUTES, logger=parent)

    with caplog.at_level(logging.DEBUG, logger="other"):
        context.logger.info("dropped")
        context.logger.warning("kept")

    assert [r.getMessage() for r in caplog.records] == ["kept"]


def test_function_error_is_a_problem() -> None:
    error = FunctionError(422, "Missing text", "input has no 'text'")

    assert error.to_problem() == {
        "type": "about:blank",
        "title": "Missing text",
        "status": 422,
        "detail": "input has no 'text'",
    }
    assert str(error) == "422 Missing text: input has no 'text'"


@pytest.mark.parametrize("status", [200, 302, 399, 600])
def test_function_error_needs_an_error_status(status: int) -> None:
    with pytest.raises(ValueError, match="4xx or 5xx"):
        FunctionError(status, "Nope")
