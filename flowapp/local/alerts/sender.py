"""The notification sender: drains the alert outbox into webhook POSTs, with retries.

    due_notifications (claimed under a lease) --POST payload as JSON--> the rule's webhook
        2xx --> mark delivered
        else --> mark failed, due again after a backoff (1 s, 2 s, 4 s ... 5 min at most)
                 or, after the last attempt (10), given up with its last error

Delivery is at least once: claiming moves a notification's next attempt past the lease,
so a sender that crashes mid-POST leaves it to be retried when the lease ends, and the
receiver may see it twice. Every request carries ``X-Flowapp-Notification`` (the
payload's ``id``, stable across retries and across re-decided transitions) so that a
receiver can drop duplicates. Redirects are not followed: a webhook that answers 3xx is
misconfigured, and that shows as a failed attempt with the status. The webhook's address
is checked against the egress policy (``flowapp.runtime.egress``) like a workflow's calls:
a refused one is a failed attempt saying so.

The webhook URL is read from the rule when the notification is claimed, not copied into
the payload (URLs of chat webhooks often carry a secret). Store calls run in a worker
thread; POSTs of one batch run concurrently on one connection pool.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
import orjson
from yarl import URL

from flowapp.local.alerts.periodic import Periodic
from flowapp.runtime.egress import EgressPolicy, EgressRefused, PolicyResolver, refused_by_policy
from flowapp.store import StoreError
from flowapp.store.platform import NotFound, NotificationRecord
from flowapp.store.platform.port import AlertStore
from flowapp.store.platform.records import DeliveryAttempt

log = logging.getLogger(__name__)

USER_AGENT = "flowapp-alerts"
MAX_ERROR_BODY = 200  # bytes of a failed reply kept in the notification's last error


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff between attempts, and when to give up."""

    initial: float = 1.0
    factor: float = 2.0
    maximum: float = 300.0
    max_attempts: int = 10

    def delay(self, attempts: int) -> float:
        """Seconds to wait after ``attempts`` failed attempts (1-based)."""
        exponent = min(max(attempts - 1, 0), 64)  # past any sensible maximum already
        return min(self.maximum, self.initial * self.factor**exponent)

    def next_attempt_at(self, attempts: int, now: float) -> float | None:
        """When to try again after ``attempts`` failures; None: give up."""
        return None if attempts >= self.max_attempts else now + self.delay(attempts)


class NotificationSender:
    """Delivers due notifications every ``interval`` seconds, up to ``batch`` at a time.

    ``timeout`` bounds one POST; ``lease_seconds`` (how long a claimed notification is
    hidden from other senders) must exceed it. Call :meth:`stop` to close connections.
    """

    def __init__(
        self,
        platform_store: AlertStore,
        *,
        interval: float = 0.5,
        timeout: float = 5.0,
        retry: RetryPolicy | None = None,
        batch: int = 16,
        lease_seconds: float = 60.0,
        clock: Callable[[], float] = time.time,
        policy: EgressPolicy | None = None,
    ) -> None:
        if lease_seconds <= timeout:
            raise ValueError("lease_seconds must exceed timeout, or a slow POST is repeated")
        self._store = platform_store
        self._timeout = timeout
        self._retry = retry or RetryPolicy()
        self._batch = batch
        self._lease = lease_seconds
        self._clock = clock
        self._policy = policy or EgressPolicy()
        self._session: aiohttp.ClientSession | None = None
        self._periodic = Periodic("notification sender", self.send_once, interval)

    async def start(self) -> None:
        await self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def send_once(self) -> int:
        """Claim due notifications and try each once; the number delivered."""
        claimed = await asyncio.to_thread(self._claim, self._clock())
        if not claimed:
            return 0
        session = self._http()
        results = await asyncio.gather(*(self._deliver(session, n, url) for n, url in claimed))
        return sum(results)

    def _claim(self, now: float) -> list[tuple[NotificationRecord, str]]:
        due = self._store.due_notifications(now=now, limit=self._batch, lease_seconds=self._lease)
        claimed = []
        for notification in due:
            rule = self._store.get_alert_rule(notification.rule_id)
            if rule is not None:  # else deleted since, and its notifications with it
                claimed.append((notification, rule.webhook_url))
        return claimed

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(resolver=PolicyResolver(self._policy)),
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                headers={"User-Agent": USER_AGENT},
            )
        return self._session

    async def _deliver(
        self, session: aiohttp.ClientSession, notification: NotificationRecord, url: str
    ) -> bool:
        error = await self._post(session, notification, url)
        await asyncio.to_thread(self._book, notification, error, self._clock())
        return error is None

    async def _post(
        self, session: aiohttp.ClientSession, notification: NotificationRecord, url: str
    ) -> str | None:
        """POST the payload; None on a 2xx reply, else what went wrong."""
        headers = {
            "Content-Type": "application/json",
            "X-Flowapp-Notification": str(notification.payload.get("id", notification.id)),
            "X-Flowapp-Attempt": str(notification.attempts + 1),
        }
        body = orjson.dumps(notification.payload)
        try:
            self._policy.check_url(URL(url))
            async with session.post(url, data=body, headers=headers, allow_redirects=False) as r:
                if 200 <= r.status < 300:
                    return None
                text = (await r.content.read(MAX_ERROR_BODY)).decode("utf-8", "replace")
                return f"HTTP {r.status}: {text}".strip()
        except TimeoutError:
            return f"no reply within {self._timeout:g} s"
        except EgressRefused as refusal:
            return str(refusal)
        except (aiohttp.ClientError, ValueError) as exc:  # ValueError: a URL aiohttp refuses
            cause = refused_by_policy(exc)
            return str(cause) if cause is not None else f"{type(exc).__name__}: {exc}"

    def _book(self, notification: NotificationRecord, error: str | None, now: float) -> None:
        """Record the attempt; a store error leaves the lease to bring it back."""
        attempts = notification.attempts + 1
        retry_at = None if error is None else self._retry.next_attempt_at(attempts, now)
        try:
            attempt = DeliveryAttempt(error is None, error or "", retry_at)
            self._store.mark_notification(notification.id, attempt, now=now)
        except NotFound:
            return  # its rule was deleted meanwhile
        except StoreError as exc:
            log.warning("notification %s: cannot record attempt: %s", notification.id, exc)
            return
        _log_attempt(notification, attempts, error, retry_at)


def _log_attempt(
    notification: NotificationRecord, attempts: int, error: str | None, retry_at: float | None
) -> None:
    if error is None:
        log.debug("notification %s delivered (attempt %d)", notification.id, attempts)
    elif retry_at is None:
        log.error(
            "notification %s: giving up after %d attempts: %s", notification.id, attempts, error
        )
    else:
        log.warning("notification %s attempt %d failed: %s", notification.id, attempts, error)
