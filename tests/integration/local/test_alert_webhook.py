"""Alerts end to end: faulted executions in SQLite fire a rule, the evaluator queues the
notification, the sender POSTs it to a real webhook that fails once and retries, and
once the window passes without failures the rule resolves with a second notification.
Real loops, the real clock, short intervals: a few seconds in all."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from flowapp.local.alerts import AlertEvaluator, NotificationSender, RetryPolicy
from tests.unit.local.alert_factories import execution, make_app, make_rule, save_workflow

from .conftest import Receiver, Stores, notifications

WINDOW = 1.5  # seconds: the faults leave the window soon after the rule fires


async def wait_for(check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_the_webhook_gets_one_firing_after_a_retry_then_one_resolved(
    stores: Stores, receiver: Receiver
) -> None:
    make_app(stores.platform, "shop", now=time.time())
    rule = make_rule(stores.platform, threshold=2, window_seconds=WINDOW, webhook_url=receiver.url)
    save_workflow(stores.executions)
    now = time.time()
    for n in range(3):
        execution(stores.executions, f"f{n}", created_at=now, started_at=now, ended_at=now)
    receiver.answers = [500]  # the first delivery fails
    evaluator = AlertEvaluator(stores.executions, stores.platform, None, interval=0.1)
    sender = NotificationSender(
        stores.platform, interval=0.05, timeout=2.0, retry=RetryPolicy(initial=0.2)
    )
    await evaluator.start()
    await sender.start()
    try:
        await wait_for(lambda: len(receiver.accepted()) == 2, timeout=12)
        await asyncio.sleep(0.5)  # nothing else arrives
    finally:
        await evaluator.stop()
        await sender.stop()

    answered = [(r.payload["status"], r.answered) for r in receiver.requests]
    assert answered == [("firing", 500), ("firing", 200), ("resolved", 200)]
    first, retry, resolved = receiver.requests
    assert first.payload == retry.payload
    assert first.payload["value"] == 3.0 and resolved.payload["value"] == 0.0
    assert resolved.payload["since"] == first.payload["since"]  # the episode's start
    assert resolved.payload["at"] >= now + WINDOW  # once the faults left the window
    assert first.payload["rule"]["id"] == rule.id and first.payload["app"] == "shop"
    assert first.headers["Content-Type"] == "application/json"
    assert first.headers["User-Agent"] == "flowapp-alerts"
    ids = [r.headers["X-Flowapp-Notification"] for r in receiver.requests]
    assert ids[0] == ids[1] == first.payload["id"] != ids[2]
    assert [r.headers["X-Flowapp-Attempt"] for r in receiver.requests] == ["1", "2", "1"]

    state = stores.platform.get_alert_state(rule.id)
    assert state is not None and not state.firing
    rows = notifications(stores.platform)
    assert [(n.attempts, n.last_error, n.next_attempt_at) for n in rows] == [
        (2, "HTTP 500: nope", None),
        (1, "", None),
    ]
    assert all(n.delivered_at is not None for n in rows)
