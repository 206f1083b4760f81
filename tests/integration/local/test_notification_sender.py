"""The sender against a real webhook receiver and a SQLite platform store: what counts
as delivered, how failures are booked and retried, and when it gives up. The sender's
clock is a number the test moves, so backoffs take no real time."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from flowapp.local.alerts import NotificationSender, RetryPolicy
from flowapp.store.platform import AlertRuleRecord, NotificationRecord
from tests.unit.local.alert_factories import T0, make_app, make_rule

from .conftest import Receiver, Stores, notifications


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def rule_to(stores: Stores, url: str) -> AlertRuleRecord:
    make_app(stores.platform, "shop")
    return make_rule(stores.platform, webhook_url=url)


def queue(stores: Stores, rule: AlertRuleRecord, key: str = "1-firing-0") -> None:
    payload = {"id": key, "app": "shop", "status": "firing", "value": 3.0}
    stores.platform.enqueue_notification(rule.id, payload, now=T0)


def sender(stores: Stores, clock: Clock, **options: Any) -> NotificationSender:
    return NotificationSender(stores.platform, clock=clock, **options)


def only(stores: Stores) -> NotificationRecord:
    [row] = notifications(stores.platform)
    return row


async def test_a_2xx_reply_delivers(stores: Stores, receiver: Receiver, clock: Clock) -> None:
    rule = rule_to(stores, receiver.url)
    queue(stores, rule)
    receiver.answers = [204]
    send = sender(stores, clock)
    try:
        assert await send.send_once() == 1
        assert await send.send_once() == 0  # nothing due any more
    finally:
        await send.stop()

    [request] = receiver.requests
    assert request.payload == {"id": "1-firing-0", "app": "shop", "status": "firing", "value": 3.0}
    row = only(stores)
    assert (row.attempts, row.delivered_at, row.next_attempt_at) == (1, T0, None)


async def test_failures_back_off_then_give_up_with_the_last_error(
    stores: Stores, receiver: Receiver, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    rule = rule_to(stores, receiver.url)
    queue(stores, rule)
    receiver.answers = [503] * 10
    send = sender(stores, clock, retry=RetryPolicy(initial=1.0, max_attempts=3))
    try:
        assert await send.send_once() == 0
        assert only(stores).next_attempt_at == T0 + 1.0
        clock.now = T0 + 0.9
        await send.send_once()  # not due yet
        assert len(receiver.requests) == 1

        clock.now = T0 + 1.0
        await send.send_once()
        assert only(stores).next_attempt_at == T0 + 1.0 + 2.0

        clock.now = T0 + 3.0
        await send.send_once()
        clock.now = T0 + 10_000
        await send.send_once()
    finally:
        await send.stop()

    assert len(receiver.requests) == 3
    row = only(stores)
    assert (row.attempts, row.last_error, row.next_attempt_at, row.delivered_at) == (
        3,
        "HTTP 503: nope",
        None,
        None,
    )
    assert "giving up after 3 attempts: HTTP 503: nope" in caplog.text


async def test_a_redirect_is_a_failed_attempt(
    stores: Stores, receiver: Receiver, clock: Clock
) -> None:
    queue(stores, rule_to(stores, receiver.url))
    receiver.answers = [302]
    send = sender(stores, clock)
    try:
        await send.send_once()
    finally:
        await send.stop()

    assert len(receiver.requests) == 1  # the Location was not followed
    row = only(stores)
    assert row.last_error.startswith("HTTP 302") and row.next_attempt_at == T0 + 1.0


async def test_a_slow_receiver_times_out(stores: Stores, receiver: Receiver, clock: Clock) -> None:
    queue(stores, rule_to(stores, receiver.url))
    receiver.delay = 1.0
    send = sender(stores, clock, timeout=0.2)
    try:
        assert await send.send_once() == 0
    finally:
        await send.stop()

    row = only(stores)
    assert (row.attempts, row.last_error) == (1, "no reply within 0.2 s")


async def test_an_unreachable_receiver_is_a_failed_attempt(stores: Stores, clock: Clock) -> None:
    with socket.socket() as probe:  # a port that nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    queue(stores, rule_to(stores, f"http://127.0.0.1:{port}/hook"))
    send = sender(stores, clock)
    try:
        assert await send.send_once() == 0
    finally:
        await send.stop()

    row = only(stores)
    assert row.last_error.startswith("ClientConnectorError") and row.next_attempt_at is not None


async def test_a_batch_is_sent_concurrently_and_each_booked(
    stores: Stores, receiver: Receiver, clock: Clock
) -> None:
    rule = rule_to(stores, receiver.url)
    for n in range(5):
        queue(stores, rule, key=f"k{n}")
    receiver.answers = [200, 500, 200, 200, 200]
    send = sender(stores, clock, batch=3)
    try:
        assert await send.send_once() == 2  # three claimed, one failed
        assert await send.send_once() == 2  # the two left
        clock.now = T0 + 1.0
        assert await send.send_once() == 1  # the retry
    finally:
        await send.stop()

    rows = notifications(stores.platform)
    assert all(row.delivered_at is not None for row in rows)
    assert sorted(row.attempts for row in rows) == [1, 1, 1, 1, 2]
    assert sorted(r.headers["X-Flowapp-Notification"] for r in receiver.accepted()) == [
        "k0",
        "k1",
        "k2",
        "k3",
        "k4",
    ]


async def test_notifications_of_a_deleted_rule_are_not_sent(
    stores: Stores, receiver: Receiver, clock: Clock
) -> None:
    rule = rule_to(stores, receiver.url)
    queue(stores, rule)
    stores.platform.delete_alert_rule(rule.id)
    send = sender(stores, clock)
    try:
        assert await send.send_once() == 0
    finally:
        await send.stop()

    assert receiver.requests == []


async def test_the_egress_policy_refuses_a_webhook_on_a_private_address(
    stores: Stores, receiver: Receiver, clock: Clock
) -> None:
    from flowapp.runtime.egress import EgressPolicy

    port = receiver.url.split(":")[2].split("/")[0]
    queue(stores, rule_to(stores, receiver.url), key="by-address")
    by_name = receiver.url.replace("127.0.0.1", "localhost")
    queue(stores, make_rule(stores.platform, name="by-name", webhook_url=by_name), key="by-name")
    send = sender(stores, clock, policy=EgressPolicy.enforcing())
    try:
        assert await send.send_once() == 0
    finally:
        await send.stop()
    assert receiver.requests == []
    for row in notifications(stores.platform):
        assert "the egress policy refuses" in row.last_error and "loopback" in row.last_error

    allowed = sender(stores, clock, policy=EgressPolicy.enforcing([f"127.0.0.1:{port}"]))
    clock.now = T0 + 10
    receiver.answers = [204, 204]
    try:
        # An address in the allow list admits it under any name that resolves to it.
        assert await allowed.send_once() == 2
    finally:
        await allowed.stop()
