"""The contract between a trigger and the platform, and between the runner and an adapter.

Data flow::

    spec.triggers[i] --parse_trigger--> TriggerConfig --build_trigger--> Trigger
    broker message --Source.describe--> Incoming --to_cloudevent--> event dict --> sink

The platform calls ``await trigger.start(sink)``. ``sink(event)`` returns only once the
execution was durably created (the platform dedupes by event ``id``) and raises on failure.
A trigger acknowledges a message only after the sink returned; otherwise it leaves the
message for redelivery and, past ``max_redeliveries``, moves it to its dead-letter
destination with a :class:`DeadLetter` record attached.

A broker adapter implements :class:`Source`; the generic runner (``runner.py``) owns
the lifecycle, back-pressure, retries and dead-lettering, so every adapter is only the
few broker calls that differ.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, Protocol, TypeVar

Event = dict[str, Any]
BackoffPolicy = Literal["exponential", "linear"]
Sink = Callable[[Event], Awaitable[None]]

DEFAULT_MAX_IN_FLIGHT = 16
DEFAULT_MAX_REDELIVERIES = 5
DEFAULT_MAX_BYTES = 1024 * 1024


class TriggerState(StrEnum):
    READY = "ready"
    CONNECTING = "connecting"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class TriggerStatus:
    """What ``trigger.status()`` reports; ``error`` is the last connection error, if any."""

    state: TriggerState
    error: str | None = None

    @property
    def ready(self) -> bool:
        return self.state is TriggerState.READY


class Trigger(Protocol):
    """An event source binding: turns incoming messages into CloudEvents for a sink."""

    @property
    def name(self) -> str: ...

    async def start(self, sink: Sink) -> None:
        """Begin delivering to ``sink``; never raises because a broker is down."""

    async def stop(self, *, drain_timeout: float = 30.0) -> None:
        """Stop receiving, wait up to ``drain_timeout`` for in-flight sinks, then close.

        Sinks still running after the timeout are cancelled and their messages are left
        unacknowledged, so the broker delivers them again to the next instance.
        """

    def status(self) -> TriggerStatus: ...


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay before attempt ``n`` (1-based) of something that failed ``n`` times."""

    delay: float
    policy: BackoffPolicy = "exponential"
    maximum: float = 300.0

    def delay_for(self, attempt: int) -> float:
        attempt = max(attempt, 1)
        if self.policy == "linear":
            return min(self.delay * attempt, self.maximum)
        # Cap the exponent first: 2**attempt overflows float for large attempt counts.
        return min(self.delay * (1 << min(attempt - 1, 62)), self.maximum)


@dataclass(frozen=True, slots=True)
class Owner:
    """Whose trigger this is. Broker-side names a trigger makes up (queues, consumer
    groups, durable consumers, client ids, dead-letter destinations) are derived from it,
    so that triggers of one name in two apps never share one (two apps each with a
    trigger named ``orders`` used to consume one queue, each message reaching one of them).

    Without an app (a trigger used on its own) the names are the trigger's alone."""

    trigger: str
    app: str | None = None

    def name(self, separator: str) -> str:
        """``<app><separator><trigger>``. App and trigger names are DNS labels, so a
        separator that is not a letter, a digit or ``-`` keeps every owner's name apart."""
        return self.trigger if self.app is None else f"{self.app}{separator}{self.trigger}"


@dataclass(frozen=True, slots=True)
class TriggerConfig:
    """One parsed ``spec.triggers[i]`` item; ``source`` is the kind's own frozen config."""

    name: str
    kind: str
    source: Any
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
    max_redeliveries: int = DEFAULT_MAX_REDELIVERIES
    max_bytes: int = DEFAULT_MAX_BYTES
    read: Literal["data", "envelope"] = "data"
    non_json: Literal["text", "base64"] = "text"
    event_type: str | None = None
    backoff: Backoff = field(default_factory=lambda: Backoff(delay=1.0))

    @property
    def type(self) -> str:
        """The CloudEvents ``type`` of the events this trigger emits."""
        return self.event_type or f"dev.flowapp.trigger.{self.kind}"


@dataclass(frozen=True, slots=True)
class Incoming:
    """A broker message reduced to what the CloudEvent mapping needs.

    ``id`` is stable across redeliveries of the same message; ``deliveries`` counts this
    delivery too (1 on the first delivery), from the broker when it counts them.
    """

    id: str
    source: str
    subject: str
    body: bytes
    headers: Mapping[str, Any] = field(default_factory=dict)
    time: datetime | None = None
    content_type: str | None = None
    deliveries: int = 1
    extensions: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """Why a message was given up; attached to it as headers in the dead-letter destination."""

    reason: str
    trigger: str
    event_id: str
    source: str
    deliveries: int

    def headers(self) -> dict[str, str]:
        return {
            "flowapp-reason": self.reason,
            "flowapp-trigger": self.trigger,
            "flowapp-event-id": self.event_id,
            "flowapp-source": self.source,
            "flowapp-deliveries": str(self.deliveries),
        }


M = TypeVar("M")


class Source(Protocol[M]):
    """One broker adapter, driven by the runner. ``M`` is the adapter's message handle.

    Every method converts its driver's errors into ``TriggerError`` subclasses.
    """

    async def open(self) -> None:
        """Connect, declare what must exist, subscribe. Raises TriggerConnectionError."""

    async def receive(self, limit: int) -> Sequence[M]:
        """Up to ``limit`` messages; waits about a second at most and may return none."""

    def describe(self, message: M) -> Incoming: ...

    async def ack(self, message: M) -> None: ...

    async def redeliver(self, message: M, delay: float) -> M | None:
        """Give the message back for another attempt after ``delay`` seconds.

        Brokers that redeliver by themselves return None; adapters that retry in process
        (MQTT, Kafka) wait and return the message with its delivery count raised.
        """

    async def dead_letter(self, message: M, letter: DeadLetter) -> None:
        """Publish the message with ``letter`` to the dead-letter destination, durably."""

    async def close(self) -> None:
        """Release the connection; must not raise."""
