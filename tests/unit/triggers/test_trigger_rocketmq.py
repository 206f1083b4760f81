"""The rocketmq adapter against a fake of the 5.x SimpleConsumer (no RocketMQ server here).

The fake keeps the 5.x semantics the adapter relies on: a received message is invisible
for ``invisible_duration`` seconds, then delivered again with ``delivery_attempt`` raised
unless it was acked; ``change_invisible_duration`` moves that moment.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from flowapp.triggers import Backoff, TriggerState, build_trigger
from flowapp.triggers.rocketmq import RocketConfig
from flowapp.triggers.testing import RecordingSink, eventually


@dataclass(frozen=True)
class FakeView:
    message_id: str
    topic: str
    body: bytes
    tag: str | None = None
    properties: Mapping[str, str] = field(default_factory=dict)
    born_timestamp: int | None = 1_777_636_800
    delivery_attempt: int | None = 1


class FakeBroker:
    """One topic and one consumer group, thread-safe: the client is called from threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ready: list[FakeView] = []
        self.invisible: dict[str, tuple[float, FakeView]] = {}
        self.acked: list[str] = []
        self.invisible_changes: list[tuple[str, int]] = []
        self.sent: list[tuple[str, bytes, dict[str, str]]] = []
        self.serial = itertools.count(1)

    def publish(self, body: bytes, **properties: str) -> str:
        view = FakeView(f"MSG{next(self.serial):04d}", "orders", body, "created", properties)
        with self.lock:
            self.ready.append(view)
        return view.message_id

    def receive(self, max_message_num: int, invisible_duration: int) -> list[FakeView]:
        with self.lock:
            now = time.monotonic()
            for message_id, (visible_at, view) in list(self.invisible.items()):
                if visible_at <= now:  # not acked in time: deliver again, one attempt more
                    del self.invisible[message_id]
                    attempt = (view.delivery_attempt or 1) + 1
                    self.ready.append(replace(view, delivery_attempt=attempt))
            batch, self.ready = self.ready[:max_message_num], self.ready[max_message_num:]
            for view in batch:
                self.invisible[view.message_id] = (now + invisible_duration, view)
        if not batch:
            time.sleep(0.01)  # the real client long-polls here
        return batch


class FakeConsumer:
    def __init__(self, broker: FakeBroker) -> None:
        self.broker = broker
        self.shut = False

    def receive(self, max_message_num: int, invisible_duration: int) -> list[Any]:
        return self.broker.receive(max_message_num, invisible_duration)

    def ack(self, message: Any) -> None:
        with self.broker.lock:
            self.broker.invisible.pop(message.message_id, None)
            self.broker.acked.append(message.message_id)

    def change_invisible_duration(self, message: Any, invisible_duration: int) -> None:
        with self.broker.lock:
            self.broker.invisible_changes.append((message.message_id, invisible_duration))
            # Seconds in the real client; the fake scales them down so tests stay fast.
            visible_at = time.monotonic() + invisible_duration / 100
            self.broker.invisible[message.message_id] = (visible_at, message)

    def shutdown(self) -> None:
        self.shut = True


class FakePublisher:
    def __init__(self, broker: FakeBroker) -> None:
        self.broker = broker

    def send(self, topic: str, body: bytes, properties: Mapping[str, str]) -> None:
        self.broker.sent.append((topic, body, dict(properties)))

    def shutdown(self) -> None:
        pass


@dataclass
class FakeClients:
    broker: FakeBroker
    fail: int = 0
    consumers: list[FakeConsumer] = field(default_factory=list)

    def consumer(self, settings: RocketConfig) -> FakeConsumer:
        if self.fail:
            self.fail -= 1
            raise RuntimeError("proxy unreachable")
        self.consumers.append(FakeConsumer(self.broker))
        return self.consumers[-1]

    def publisher(self, settings: RocketConfig) -> FakePublisher:
        return FakePublisher(self.broker)


def rocket_trigger(clients: FakeClients, **common: object) -> Any:
    item = {"name": "orders", "rocketmq": {"topic": "orders"}, "backoffDelay": "PT1S", **common}
    fast = Backoff(delay=0.01, maximum=0.05)
    return build_trigger(item, rocketmq_clients=clients, reconnect=fast)


async def test_messages_become_events_and_are_acked() -> None:
    broker, sink = FakeBroker(), RecordingSink()
    ids = [broker.publish(b'{"n": %d}' % i, trace="t") for i in range(5)]
    trigger = rocket_trigger(FakeClients(broker))
    await trigger.start(sink)
    await eventually(lambda: len(broker.acked) == 5)
    await trigger.stop()
    assert sorted(sink.ids) == ids
    event = sink.events[0]
    assert event["source"] == "rocketmq://127.0.0.1:8081/orders"
    assert (event["type"], event["rocketmqtag"], event["trace"]) == (
        "dev.flowapp.trigger.rocketmq",
        "created",
        "t",
    )


async def test_a_failure_changes_the_invisible_duration_and_is_redelivered() -> None:
    broker, sink = FakeBroker(), RecordingSink(fail_first=1)
    message_id = broker.publish(b"1")
    trigger = rocket_trigger(FakeClients(broker))
    await trigger.start(sink)
    await eventually(lambda: broker.acked == [message_id])
    await trigger.stop()
    assert broker.invisible_changes == [(message_id, 1)]  # backoff delay of attempt 1
    assert sink.attempts[message_id] == 2


async def test_past_the_limit_it_goes_to_the_dead_letter_topic() -> None:
    broker, sink = FakeBroker(), RecordingSink(fail_always=True)
    message_id = broker.publish(b"1", trace="t")
    trigger = rocket_trigger(FakeClients(broker), maxRedeliveries=1)
    await trigger.start(sink)
    await eventually(lambda: broker.acked == [message_id])
    await trigger.stop()
    [(topic, body, properties)] = broker.sent
    assert (topic, body) == ("flowapp-dead-letter-orders", b"1")
    assert properties["trace"] == "t" and properties["flowapp-deliveries"] == "2"
    assert properties["flowapp-reason"].startswith("sink failed 2 times")


async def test_max_in_flight_bounds_the_receive_batch() -> None:
    broker, sink = FakeBroker(), RecordingSink(delay=0.02)
    for i in range(12):
        broker.publish(b"%d" % i)
    trigger = rocket_trigger(FakeClients(broker), maxInFlight=3)
    await trigger.start(sink)
    await eventually(lambda: len(broker.acked) == 12)
    await trigger.stop()
    assert sink.max_active == 3


async def test_an_unreachable_proxy_is_reported_then_retried() -> None:
    broker, sink = FakeBroker(), RecordingSink()
    broker.publish(b"1")
    clients = FakeClients(broker, fail=2)
    trigger = rocket_trigger(clients)
    await trigger.start(sink)
    await eventually(lambda: trigger.status().error is not None)
    assert "proxy unreachable" in trigger.status().error
    await eventually(lambda: len(broker.acked) == 1, timeout=5)
    await trigger.stop()
    assert trigger.status().state is TriggerState.STOPPED
    assert all(c.shut for c in clients.consumers)


async def test_without_the_optional_client_the_status_says_how_to_install_it() -> None:
    try:
        import rocketmq  # noqa: F401
    except ImportError:
        pass
    else:  # pragma: no cover - only where the extra is installed
        pytest.skip("rocketmq-python-client is installed")
    item = {"name": "orders", "rocketmq": {"topic": "orders"}}
    trigger = build_trigger(item, reconnect=Backoff(delay=0.01, maximum=0.05))
    await trigger.start(RecordingSink())  # no exception: the rest of the app runs
    await eventually(lambda: trigger.status().error is not None)
    assert trigger.status().state is TriggerState.CONNECTING
    assert "pip install 'flowapp[rocketmq]'" in (trigger.status().error or "")
    await trigger.stop()
