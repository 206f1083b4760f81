"""Delivery options (Knative ``DeliverySpec``) and the arithmetic of retries. Pure: no I/O.

A subscriber or sink is an HTTP URL or an in-process coroutine function. A delivery
attempt fails on a non-2xx answer, a timeout, a connection error, or (in process) an
exception. After a failure the event is retried ``retry`` times at most, then goes to the
dead-letter sink.

Backoff, as Knative defines it (``delivery_types.go``; the Kafka broker and Knative's
``retries_test.go`` count the same way): before the n-th retry (n = 1, 2, ...) wait

- linear:      ``backoffDelay * n``
- exponential: ``backoffDelay * 2**n``

so ``PT0.2S`` exponential waits 0.4 s, 0.8 s, 1.6 s. (The MT-broker dispatcher hands
go-retryablehttp a 0-based count, so there the first retry waits ``delay`` or nothing;
we follow the documented formula.) No ``backoffDelay`` means no wait. The policy
defaults to exponential, as in the Kafka broker.

Which failures are retried follows Knative's ``SelectiveRetry`` (the data-plane spec):
timeouts, connection errors, 5xx, 404, 408, 409 and 429. Other answers (3xx, most 4xx)
say the event will never be accepted, so it goes straight to the dead-letter sink.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from flowapp.dsl.durations import DurationError, parse_iso_duration
from flowapp.dsl.problems import Problem, join_pointer
from flowapp.events.errors import SpecError

if TYPE_CHECKING:
    from flowapp.events.cloudevents import Event

# Written as a string so that parsing a delivery spec does not load the CloudEvents SDK.
Deliver = Callable[["Event"], Awaitable["Event | None"]]
"""An in-process subscriber: raising means failure; a returned event is a reply."""

Subscriber = str | Deliver
"""Where events go: an ``http(s)://`` URL or an in-process ``Deliver`` function."""

SinkResolver = Callable[[str], Subscriber]
"""Turns a subscriber *name* (a FlowApp function, say) into a subscriber."""

DEFAULT_TIMEOUT = 30.0
"""Seconds per attempt when the spec sets no ``timeout``."""

_RETRYABLE_STATUSES = frozenset({404, 408, 409, 429})
DELIVERY_KEYS = ("retry", "backoffPolicy", "backoffDelay", "timeout", "deadLetterSink")


class BackoffPolicy(StrEnum):
    LINEAR = "linear"
    EXPONENTIAL = "exponential"


@dataclass(frozen=True, slots=True)
class DeliverySpec:
    """How hard to try one subscriber, and where events go when it keeps failing."""

    retry: int = 0
    backoff_policy: BackoffPolicy = BackoffPolicy.EXPONENTIAL
    backoff_delay: float = 0.0
    timeout: float | None = None
    dead_letter_sink: Subscriber | None = None

    @property
    def attempt_timeout(self) -> float:
        return self.timeout if self.timeout is not None else DEFAULT_TIMEOUT


def next_delay(spec: DeliverySpec, attempt: int) -> float:
    """Seconds to wait before retry number ``attempt`` (1 for the first retry)."""
    if attempt < 1:
        raise ValueError(f"retries are numbered from 1, not {attempt}")
    if spec.backoff_policy is BackoffPolicy.LINEAR:
        return spec.backoff_delay * attempt
    return spec.backoff_delay * 2.0**attempt


def retry_delay(spec: DeliverySpec, failed_attempts: int, *, retryable: bool) -> float | None:
    """After ``failed_attempts`` failures: seconds until the next try, or None to give up."""
    if not retryable or failed_attempts > spec.retry:
        return None
    return next_delay(spec, failed_attempts)


def is_retryable_status(status: int) -> bool:
    """Whether an HTTP answer is worth retrying (Knative's ``SelectiveRetry``)."""
    return status >= 500 or status in _RETRYABLE_STATUSES


# --- parsing -------------------------------------------------------------------------


def parse_delivery(
    spec: Mapping[str, Any] | None,
    *,
    pointer: str = "/delivery",
    resolve: SinkResolver | None = None,
) -> DeliverySpec:
    """The FlowApp form ``{retry, backoffPolicy, backoffDelay, timeout, deadLetterSink}``."""
    if spec is None:
        return DeliverySpec()
    if not isinstance(spec, Mapping):
        raise SpecError([Problem(pointer, "must be an object")])
    problems = [
        Problem(
            join_pointer(pointer, key), f"unknown key; expected one of {', '.join(DELIVERY_KEYS)}"
        )
        for key in spec
        if key not in DELIVERY_KEYS
    ]
    result = DeliverySpec(
        retry=_retry(spec.get("retry", 0), join_pointer(pointer, "retry"), problems),
        backoff_policy=_policy(spec.get("backoffPolicy"), pointer, problems),
        backoff_delay=_duration(spec, "backoffDelay", pointer, problems) or 0.0,
        timeout=_timeout(spec, pointer, problems),
        dead_letter_sink=_sink(spec.get("deadLetterSink"), pointer, problems, resolve),
    )
    if problems:
        raise SpecError(problems)
    return result


def _retry(value: Any, pointer: str, problems: list[Problem]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        problems.append(Problem(pointer, f"must be a whole number >= 0, not {value!r}"))
        return 0
    return value


def _policy(value: Any, pointer: str, problems: list[Problem]) -> BackoffPolicy:
    if value is None:
        return BackoffPolicy.EXPONENTIAL
    try:
        return BackoffPolicy(value)
    except ValueError:
        where = join_pointer(pointer, "backoffPolicy")
        problems.append(Problem(where, f"must be `linear` or `exponential`, not {value!r}"))
        return BackoffPolicy.EXPONENTIAL


def _duration(
    spec: Mapping[str, Any], key: str, pointer: str, problems: list[Problem]
) -> float | None:
    value = spec.get(key)
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise DurationError(f"{value!r} is not text")
        return parse_iso_duration(value)
    except DurationError as exc:
        problems.append(Problem(join_pointer(pointer, key), f"{exc} (ISO 8601, e.g. PT0.2S)"))
        return None


def _timeout(spec: Mapping[str, Any], pointer: str, problems: list[Problem]) -> float | None:
    seconds = _duration(spec, "timeout", pointer, problems)
    if seconds is not None and seconds <= 0:
        problems.append(Problem(join_pointer(pointer, "timeout"), "must be longer than zero"))
    return seconds


def _sink(
    value: Any, pointer: str, problems: list[Problem], resolve: SinkResolver | None
) -> Subscriber | None:
    where = join_pointer(pointer, "deadLetterSink")
    if isinstance(value, Mapping) and set(value) == {"uri"}:
        value = value["uri"]  # Knative's Destination form
    if value is None:
        return None
    if callable(value):
        sink: Deliver = value
        return sink
    if not isinstance(value, str) or not value:
        problems.append(Problem(where, "must be a URL or a subscriber name"))
        return None
    if is_url(value):
        return value
    try:
        if resolve is None:
            raise LookupError(value)
        return resolve(value)
    except LookupError:
        problems.append(Problem(where, f"`{value}` is not an http(s) URL and names no subscriber"))
        return None


def is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))
