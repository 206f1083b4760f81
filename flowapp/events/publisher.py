"""Publishing to a broker over HTTP: a Knative Broker's ingress, or any CloudEvents sink.

    runtime (``emit``, ``POST /api/v1/events``) -> BrokerPublisher.publish -> POST ingress

Each event is posted in binary mode (attributes as ``ce-`` headers, the data as the body),
as Knative's own senders do, over one pooled HTTP client (``Sender``). The ingress answers
202 once the event is accepted; a failure worth retrying (a connection error, a timeout,
5xx, 404, 408, 409, 429: Knative's ``SelectiveRetry``) is retried with backoff
(``delivery``; by default 5 retries 0.4 s, 0.8 s ... 6.4 s apart, 12 s in all), and
``PublishFailed`` is raised once the retries are spent or the answer says retrying cannot
help (400 for an event the broker refuses, 413 for one too large).

Publishing never loops back on its own: the broker delivers the event to its
subscribers, the engine among them, through their Triggers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from flowapp.events.delivery import BackoffPolicy, DeliverySpec, retry_delay
from flowapp.events.errors import EventsError
from flowapp.events.sender import Sender

log = logging.getLogger(__name__)

DEFAULT_DELIVERY = DeliverySpec(
    retry=5, backoff_policy=BackoffPolicy.EXPONENTIAL, backoff_delay=0.2, timeout=10.0
)


class PublishFailed(EventsError):
    """The broker did not take the event: it answered no, or could not be reached."""


class BrokerPublisher:
    """``publish(event)`` posts to ``url`` until the broker accepts it (or gives up)."""

    def __init__(
        self, url: str, *, delivery: DeliverySpec = DEFAULT_DELIVERY, sender: Sender | None = None
    ) -> None:
        self.url = url
        self.delivery = delivery
        self._sender = sender or Sender()

    async def publish(self, event: Mapping[str, Any]) -> None:
        failed = 0
        while True:
            outcome = await self._sender.deliver(
                self.url, dict(event), timeout=self.delivery.attempt_timeout
            )
            if outcome.ok:
                return
            failed += 1
            delay = retry_delay(self.delivery, failed, retryable=outcome.retryable)
            if delay is None:
                raise PublishFailed(
                    f"the broker at {self.url} did not take event {event.get('id')!r} "
                    f"after {failed} attempt(s): {outcome.error}"
                )
            log.info(
                "publishing %s failed: %s; retry in %.1f s", event.get("id"), outcome.error, delay
            )
            await asyncio.sleep(delay)

    async def aclose(self) -> None:
        await self._sender.aclose()
