"""Delivery specs: Knative's backoff arithmetic, retry decisions, parsing with located errors."""

from __future__ import annotations

from typing import Any

import pytest

from flowapp.events.delivery import (
    DEFAULT_TIMEOUT,
    BackoffPolicy,
    DeliverySpec,
    is_retryable_status,
    next_delay,
    parse_delivery,
    retry_delay,
)
from flowapp.events.errors import SpecError

LINEAR = BackoffPolicy.LINEAR
EXPONENTIAL = BackoffPolicy.EXPONENTIAL


@pytest.mark.parametrize(
    ("policy", "delay", "attempt", "expected"),
    [
        # the cases of Knative's retries_test.go
        (LINEAR, 2.5, 1, 2.5),
        (LINEAR, 2.5, 2, 5.0),
        (LINEAR, 2.5, 5, 12.5),
        (EXPONENTIAL, 1.5, 1, 3.0),
        (EXPONENTIAL, 1.5, 2, 6.0),
        (EXPONENTIAL, 1.5, 5, 48.0),
        (EXPONENTIAL, 0.5, 1, 1.0),
        (EXPONENTIAL, 0.5, 4, 8.0),
        # the FlowApp example: PT0.2S exponential
        (EXPONENTIAL, 0.2, 1, 0.4),
        (EXPONENTIAL, 0.2, 3, 1.6),
        # no backoffDelay: no wait
        (LINEAR, 0.0, 3, 0.0),
        (EXPONENTIAL, 0.0, 3, 0.0),
    ],
)
def test_next_delay(policy: BackoffPolicy, delay: float, attempt: int, expected: float) -> None:
    spec = DeliverySpec(retry=10, backoff_policy=policy, backoff_delay=delay)
    assert next_delay(spec, attempt) == pytest.approx(expected)


def test_retries_are_numbered_from_one() -> None:
    with pytest.raises(ValueError, match="from 1"):
        next_delay(DeliverySpec(), 0)


@pytest.mark.parametrize(
    ("failed", "retryable", "expected"),
    [(1, True, 0.2), (2, True, 0.4), (3, True, 0.6), (4, True, None), (1, False, None)],
)
def test_retry_delay_gives_up_after_retry_count(
    failed: int, retryable: bool, expected: float | None
) -> None:
    spec = DeliverySpec(retry=3, backoff_policy=LINEAR, backoff_delay=0.2)
    result = retry_delay(spec, failed, retryable=retryable)
    assert result == (pytest.approx(expected) if expected is not None else None)


def test_no_retry_by_default() -> None:
    assert retry_delay(DeliverySpec(), 1, retryable=True) is None


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (500, True),
        (502, True),
        (503, True),
        (404, True),
        (408, True),
        (409, True),
        (429, True),
        (400, False),
        (401, False),
        (403, False),
        (422, False),
        (301, False),
    ],
)
def test_retryable_statuses_follow_knative(status: int, retryable: bool) -> None:
    assert is_retryable_status(status) is retryable


def test_parse_the_flowapp_form() -> None:
    async def sink(event: dict[str, Any]) -> None:
        return None

    spec = parse_delivery(
        {
            "retry": 3,
            "backoffPolicy": "linear",
            "backoffDelay": "PT0.2S",
            "timeout": "PT5S",
            "deadLetterSink": "http://127.0.0.1:9/dead",
        }
    )
    assert spec == DeliverySpec(3, LINEAR, 0.2, 5.0, "http://127.0.0.1:9/dead")
    assert (
        parse_delivery({"deadLetterSink": {"uri": "https://x/"}}).dead_letter_sink == "https://x/"
    )
    assert parse_delivery({"deadLetterSink": sink}).dead_letter_sink is sink


def test_defaults() -> None:
    spec = parse_delivery(None)
    assert spec == DeliverySpec(0, EXPONENTIAL, 0.0, None, None)
    assert spec.attempt_timeout == DEFAULT_TIMEOUT
    assert parse_delivery({"backoffDelay": "PT1S"}).backoff_policy is EXPONENTIAL


def test_a_sink_name_is_resolved() -> None:
    async def audit(event: dict[str, Any]) -> None:
        return None

    sinks = {"audit": audit}
    spec = parse_delivery({"deadLetterSink": "audit"}, resolve=sinks.__getitem__)
    assert spec.dead_letter_sink is audit
    with pytest.raises(SpecError, match="/delivery/deadLetterSink: `nope` is not an http"):
        parse_delivery({"deadLetterSink": "nope"}, resolve=sinks.__getitem__)


@pytest.mark.parametrize(
    ("spec", "pointer", "message"),
    [
        ({"retry": -1}, "/delivery/retry", "whole number"),
        ({"retry": True}, "/delivery/retry", "whole number"),
        ({"retry": "3"}, "/delivery/retry", "whole number"),
        ({"backoffPolicy": "constant"}, "/delivery/backoffPolicy", "`linear` or `exponential`"),
        ({"backoffDelay": "200ms"}, "/delivery/backoffDelay", "ISO 8601"),
        ({"backoffDelay": 0.2}, "/delivery/backoffDelay", "ISO 8601"),
        ({"timeout": "PT0S"}, "/delivery/timeout", "longer than zero"),
        ({"timeout": "soon"}, "/delivery/timeout", "ISO 8601"),
        ({"deadLetterSink": "dead-letters"}, "/delivery/deadLetterSink", "not an http(s) URL"),
        ({"deadLetterSink": 7}, "/delivery/deadLetterSink", "URL or a subscriber name"),
        ({"retryAfterMax": "PT1S"}, "/delivery/retryAfterMax", "unknown key"),
    ],
)
def test_parse_errors_say_where(spec: dict[str, Any], pointer: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_delivery(spec)
    assert any(p.pointer == pointer and message in p.message for p in caught.value.problems), (
        caught.value.problems
    )


def test_all_problems_at_once() -> None:
    with pytest.raises(SpecError) as caught:
        parse_delivery(
            {"retry": -1, "backoffPolicy": "x", "timeout": "y"}, pointer="/spec/delivery"
        )
    assert [p.pointer for p in caught.value.problems] == [
        "/spec/delivery/retry",
        "/spec/delivery/backoffPolicy",
        "/spec/delivery/timeout",
    ]
