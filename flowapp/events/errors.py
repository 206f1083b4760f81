"""The one exception root of the event bus, and what each failure means for a caller.

Every error raised by ``flowapp.events`` derives from ``EventsError``. Third-party errors
(SQLAlchemy, nats-py, httpx) are converted where they arise, in the adapter, with
``raise ... from exc``, so callers never import a driver to catch its exceptions.
Whether an operation may be retried is carried by the type (``retryable``), not by
parsing messages.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from flowapp.dsl.problems import Problem


class EventsError(Exception):
    """Root of every error raised by the event bus."""

    retryable: ClassVar[bool] = False


class InvalidEvent(EventsError, ValueError):
    """An event that breaks the CloudEvents rules; HTTP callers answer 400.

    ``attribute`` names the offending attribute when there is one; ``pointer`` is a JSON
    pointer to it inside the request (``/id``, ``/2/source`` in a batch).
    """

    status: ClassVar[int] = 400

    def __init__(self, message: str, *, attribute: str | None = None, pointer: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.attribute = attribute
        self.pointer = pointer if pointer or attribute is None else f"/{attribute}"


class UnsupportedFormat(InvalidEvent):
    """A structured-mode event in an event format other than JSON; HTTP callers answer 415."""

    status: ClassVar[int] = 415


class SpecError(EventsError, ValueError):
    """A subscription, filter or delivery spec that cannot be used, with every problem found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("; ".join(f"{p.pointer or '/'}: {p.message}" for p in self.problems))


class BrokerError(EventsError):
    """A broker used the wrong way: not started, unknown URL scheme, unknown subscription."""


class StoreError(EventsError):
    """The broker's storage (SQLite, JetStream) failed; the operation may succeed later."""

    retryable: ClassVar[bool] = True
