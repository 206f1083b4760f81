"""The exceptions of the triggers package, under one root.

Adapters convert their driver's errors (``nats.errors.Error``, ``aiormq`` exceptions,
``redis.RedisError``, ``aiomqtt.MqttError``, ``aiokafka.errors.KafkaError``, the RocketMQ
client's exceptions) into these at the adapter boundary with ``raise ... from exc``, so the
runner and the platform only ever see ``TriggerError``. Whether the runner retries is
carried by the type: ``retryable`` errors make it reconnect or leave the message for
redelivery; the others are configuration mistakes a retry cannot fix.
"""

from __future__ import annotations

from collections.abc import Iterable

from flowapp.dsl.problems import Problem


class TriggerError(Exception):
    """Root of every error raised by ``flowapp.triggers``."""

    retryable: bool = False


class TriggerConfigError(TriggerError):
    """A trigger item that cannot be used, with every problem found in it."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class TriggerConnectionError(TriggerError):
    """The broker is unreachable or the connection was lost; the runner reconnects."""

    retryable = True


class DeadLetterError(TriggerError):
    """Publishing to the dead-letter destination failed; the message stays unacknowledged."""

    retryable = True


class EventMappingError(TriggerError):
    """A message that cannot become a CloudEvent (e.g. a malformed envelope): dead-lettered."""


class WebhookError(TriggerError):
    """An HTTP request refused by a webhook trigger; becomes an RFC 7807 problem response."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        self.status = status
        self.title = title
        self.detail = detail
        super().__init__(f"{status} {title}: {detail}")

    def problem(self) -> dict[str, object]:
        """The RFC 7807 problem object the API server answers with."""
        return {
            "type": "https://flowapp.dev/problems/webhook",
            "status": self.status,
            "title": self.title,
            "detail": self.detail,
        }
