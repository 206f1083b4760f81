"""The ``kafka`` trigger: one topic read by a consumer group, offsets committed by hand.

Keys: ``bootstrapServers`` (one or a list, default ``127.0.0.1:9092``), ``topic``
(required), ``group`` (default ``flowapp-<app>.<name>``), ``startFrom`` (``earliest``, default,
or ``latest``: where a group without committed offsets starts), ``sessionTimeout``
(default ``PT10S``; a group join waits up to about this long). ``deadLetter: {topic}``
(default ``flowapp.dead-letter.<app>.<name>``).

Event id: ``<topic>:<partition>:<offset>``; ``time`` is the record timestamp, the record key
becomes the ``partitionkey`` extension, headers become extensions. Auto-commit is off:
an offset is committed only once the sink returned for it and for every earlier offset
of its partition (:class:`OffsetTracker`), so commits stay in order while up to
``maxInFlight`` records are processed at once. Kafka has no negative acknowledgement:
a failed record is retried in process (backoff, counted in memory) and then produced to
the dead-letter topic (``acks=all``) with the reason in its headers; after a restart,
uncommitted records are read again from the committed offset and their count restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord, TopicPartition

from flowapp.triggers.base import DeadLetter, Incoming, Owner, TriggerConfig
from flowapp.triggers.errors import DeadLetterError, TriggerConnectionError
from flowapp.triggers.events import from_millis
from flowapp.triggers.fields import Fields

TOPIC = r"[A-Za-z0-9._-]{1,249}"
_DRIVER_ERRORS = (KafkaError, OSError, asyncio.TimeoutError)


@dataclass(frozen=True, slots=True)
class KafkaConfig:
    bootstrap_servers: tuple[str, ...]
    topic: str
    group: str
    start_from: str
    session_timeout: float
    dead_letter_topic: str


def parse_kafka(body: Fields, dead_letter: Fields, owner: Owner) -> KafkaConfig:
    name = owner.name(".")
    topic = body.required("topic", pattern=TOPIC)
    dl_topic = dead_letter.string("topic", default=f"flowapp.dead-letter.{name}", pattern=TOPIC)
    if dl_topic == topic:
        dead_letter.problem("topic", "the dead-letter topic cannot be the trigger's own topic")
    return KafkaConfig(
        bootstrap_servers=body.strings("bootstrapServers", default=("127.0.0.1:9092",)),
        topic=topic,
        group=body.string("group", default=f"flowapp-{name}"),
        start_from=body.choice("startFrom", ("earliest", "latest"), default="earliest"),
        session_timeout=body.duration("sessionTimeout", default=10.0, minimum=1.0),
        dead_letter_topic=dl_topic,
    )


class OffsetTracker:
    """Offsets of one partition in flight; tells the next commit position, in order."""

    def __init__(self) -> None:
        self._pending: deque[int] = deque()
        self._done: set[int] = set()

    def received(self, offset: int) -> None:
        self._pending.append(offset)

    def done(self, offset: int) -> int | None:
        """Mark ``offset`` processed; the new commit position if it moved forward."""
        self._done.add(offset)
        position = None
        while self._pending and self._pending[0] in self._done:
            first = self._pending.popleft()
            self._done.discard(first)
            position = first + 1
        return position


@dataclass(frozen=True, slots=True)
class KafkaDelivery:
    record: ConsumerRecord[bytes, bytes]
    deliveries: int


def kafka_incoming(
    *, bootstrap: str, record: ConsumerRecord[Any, Any], deliveries: int
) -> Incoming:
    """The :class:`Incoming` of one record (pure: testable without a broker)."""
    headers = dict(record.headers or ())
    lowered = {k.lower(): v for k, v in headers.items()}
    content_type = lowered.get("content-type")
    extensions = {} if record.key is None else {"partitionkey": _text(record.key)}
    return Incoming(
        id=f"{record.topic}:{record.partition}:{record.offset}",
        source=f"kafka://{bootstrap}/{record.topic}",
        subject=record.topic,
        body=record.value or b"",
        headers=headers,
        time=from_millis(record.timestamp) if record.timestamp >= 0 else None,
        content_type=_text(content_type) if content_type is not None else None,
        deliveries=deliveries,
        extensions=extensions,
    )


class KafkaSource(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka: untyped base
    """The Kafka side of a ``kafka`` trigger (see the module docstring)."""

    def __init__(self, config: TriggerConfig, settings: KafkaConfig) -> None:
        self._config = config
        self._s = settings
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._trackers: dict[TopicPartition, OffsetTracker] = {}
        self._committed: dict[TopicPartition, int] = {}
        self._commit_lock = asyncio.Lock()

    async def open(self) -> None:
        servers = list(self._s.bootstrap_servers)
        session_ms = int(self._s.session_timeout * 1000)
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=servers,
            group_id=self._s.group,
            enable_auto_commit=False,
            auto_offset_reset=self._s.start_from,
            session_timeout_ms=session_ms,
            heartbeat_interval_ms=max(100, session_ms // 3),
            max_partition_fetch_bytes=max(self._config.max_bytes, 1024 * 1024),
        )
        self._producer = AIOKafkaProducer(bootstrap_servers=servers, acks="all")
        try:
            self._consumer.subscribe([self._s.topic], listener=self)
            await self._consumer.start()
            await self._producer.start()
        except _DRIVER_ERRORS as exc:
            raise TriggerConnectionError(f"kafka {servers[0]}: {exc!r}") from exc

    async def on_partitions_revoked(self, revoked: Sequence[TopicPartition]) -> None:
        # Records still in flight for these are redelivered to the new owner; their late
        # acks find no tracker and commit nothing.
        for tp in revoked:
            self._trackers.pop(tp, None)
            self._committed.pop(tp, None)

    async def on_partitions_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        for tp in assigned:
            self._trackers[tp] = OffsetTracker()

    async def receive(self, limit: int) -> Sequence[KafkaDelivery]:
        if self._consumer is None:
            raise TriggerConnectionError("kafka consumer closed")
        try:
            batches = await self._consumer.getmany(timeout_ms=1000, max_records=limit)
        except _DRIVER_ERRORS as exc:
            raise TriggerConnectionError(f"kafka fetch: {exc!r}") from exc
        deliveries = []
        for tp, records in batches.items():
            tracker = self._trackers.setdefault(tp, OffsetTracker())
            for record in records:
                tracker.received(record.offset)
                deliveries.append(KafkaDelivery(record, 1))
        return deliveries

    def describe(self, message: KafkaDelivery) -> Incoming:
        bootstrap = self._s.bootstrap_servers[0]
        return kafka_incoming(
            bootstrap=bootstrap, record=message.record, deliveries=message.deliveries
        )

    async def ack(self, message: KafkaDelivery) -> None:
        tp = TopicPartition(message.record.topic, message.record.partition)
        tracker = self._trackers.get(tp)
        position = tracker.done(message.record.offset) if tracker else None
        if position is None or self._consumer is None:
            return
        async with self._commit_lock:  # acks race: never commit an older position later
            if position <= self._committed.get(tp, -1):
                return
            try:
                await self._consumer.commit({tp: position})
            except _DRIVER_ERRORS as exc:
                raise TriggerConnectionError(f"kafka commit: {exc!r}") from exc
            self._committed[tp] = position

    async def redeliver(self, message: KafkaDelivery, delay: float) -> KafkaDelivery:
        await asyncio.sleep(delay)
        return replace(message, deliveries=message.deliveries + 1)

    async def dead_letter(self, message: KafkaDelivery, letter: DeadLetter) -> None:
        record = message.record
        extra = [(k, v.encode("utf-8")) for k, v in letter.headers().items()]
        if self._producer is None:
            raise DeadLetterError("kafka producer closed")
        try:
            await self._producer.send_and_wait(
                self._s.dead_letter_topic,
                value=record.value,
                key=record.key,
                headers=[*(record.headers or ()), *extra],
            )
        except _DRIVER_ERRORS as exc:
            raise DeadLetterError(f"kafka dead letter: {exc!r}") from exc

    async def close(self) -> None:
        consumer, producer = self._consumer, self._producer
        self._consumer = self._producer = None
        self._trackers.clear()
        self._committed.clear()
        for client in (consumer, producer):
            if client is not None:
                with contextlib.suppress(*_DRIVER_ERRORS):
                    await client.stop()


def _text(value: bytes | str) -> str:
    if isinstance(value, str):
        return value
    return value.decode("utf-8", "replace")
