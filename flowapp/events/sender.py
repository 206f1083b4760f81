"""One delivery attempt to a subscriber or sink, and dead-lettering.

Both broker backends call ``Sender.deliver`` for each attempt and act on the ``Outcome``
(settle, retry, or dead-letter); the sender itself never retries. HTTP subscribers get the
event in binary mode with ``Prefer: reply`` (as Knative sends it) over one pooled
``httpx.AsyncClient``; a 2xx answer that is itself a CloudEvent comes back as
``Outcome.reply`` for the broker to publish. In-process subscribers are awaited; raising
is a failure and a returned event is a reply.

A dead-lettered event is the original plus Knative's extensions: ``knativeerrordest``
(where delivery failed), ``knativeerrorcode`` (the HTTP status; 500 for connection
errors, timeouts and exceptions, as Knative records them) and ``knativeerrordata`` (the
failure's response body, base64, cut at 1024 characters).
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from flowapp.events.cloudevents import Event, from_http, to_binary, validate_event
from flowapp.events.delivery import Subscriber, is_retryable_status
from flowapp.events.errors import InvalidEvent
from flowapp.events.subscription import Subscription

log = logging.getLogger(__name__)

ERROR_DATA_MAX = 1024
_DISPATCH_ERROR_CODE = 500


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt came to."""

    ok: bool
    status: int | None = None
    body: bytes = b""
    error: str = ""
    retryable: bool = True
    reply: Event | None = None

    @property
    def error_code(self) -> int:
        return self.status if self.status is not None else _DISPATCH_ERROR_CODE


DELIVERED = Outcome(ok=True)


def failure(error: str, *, status: int | None = None, body: bytes = b"") -> Outcome:
    """A failed attempt; a status decides whether it is retryable."""
    retryable = status is None or is_retryable_status(status)
    if not body:
        body = f"dispatch error: {error}".encode()
    return Outcome(ok=False, status=status, body=body, error=error, retryable=retryable)


def destination(subscription_name: str, subscriber: Subscriber) -> str:
    """How ``knativeerrordest`` names a subscriber: its URL, or the in-process subscription."""
    return subscriber if isinstance(subscriber, str) else f"inprocess://{subscription_name}"


def error_extensions(dest: str, outcome: Outcome) -> dict[str, str]:
    encoded = base64.b64encode(outcome.body).decode("ascii")[:ERROR_DATA_MAX]
    return {
        "knativeerrordest": dest,
        "knativeerrorcode": str(outcome.error_code),
        "knativeerrordata": encoded,
    }


class Sender:
    """Makes attempts; owns the HTTP connection pool unless one is given."""

    def __init__(self, client: httpx.AsyncClient | None = None) -> None:
        self._own_client = client is None
        self._client = client or httpx.AsyncClient(timeout=None)

    async def aclose(self) -> None:
        if self._own_client:
            await self._client.aclose()

    async def deliver(self, subscriber: Subscriber, event: Event, *, timeout: float) -> Outcome:
        """One attempt, bounded by ``timeout`` seconds in total."""
        try:
            async with asyncio.timeout(timeout):
                if isinstance(subscriber, str):
                    return await self._post(subscriber, event)
                return _as_outcome(await subscriber(event))
        except TimeoutError:
            return failure(f"no answer within {timeout:g}s")
        except httpx.HTTPError as exc:
            return failure(f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # an in-process subscriber failed: that is its answer
            return failure(f"{type(exc).__name__}: {exc}")

    async def dead_letter(
        self, subscription: Subscription, event: Event, outcome: Outcome
    ) -> str | None:
        """Send to the subscription's sink; the reason it stays dead, or None once sunk."""
        sink = subscription.delivery.dead_letter_sink
        if sink is None:
            return outcome.error or "delivery failed"
        dest = destination(subscription.name, subscription.subscriber)
        letter = {**event, **error_extensions(dest, outcome)}
        result = await self.deliver(sink, letter, timeout=subscription.delivery.attempt_timeout)
        if result.ok:
            return None
        return f"{outcome.error}; dead-letter sink failed too: {result.error}"

    async def _post(self, url: str, event: Event) -> Outcome:
        headers, body = to_binary(event)
        headers["prefer"] = "reply"
        response = await self._client.post(url, content=body, headers=headers)
        if not 200 <= response.status_code < 300:
            error = f"{url} answered {response.status_code}"
            return failure(error, status=response.status_code, body=response.content)
        return Outcome(ok=True, status=response.status_code, reply=_reply(url, response))


def _as_outcome(returned: Any) -> Outcome:
    if returned is None:
        return DELIVERED
    if isinstance(returned, Mapping):
        return Outcome(ok=True, reply=dict(returned))
    raise TypeError(f"a subscriber returns None or a reply event, not {type(returned).__name__}")


def _reply(url: str, response: httpx.Response) -> Event | None:
    """The event in a 2xx answer, if it is one; anything else in the body is ignored."""
    headers = response.headers
    is_event = "ce-specversion" in headers or headers.get("content-type", "").startswith(
        "application/cloudevents"
    )
    if not is_event:
        return None
    try:
        return validate_event(from_http(headers, response.content)[0])
    except (InvalidEvent, IndexError) as exc:
        log.warning("ignoring an invalid reply event from %s: %s", url, exc)
        return None
