"""The ``rocketmq`` trigger: a RocketMQ 5.x SimpleConsumer on one topic.

Keys: ``endpoints`` (proxy address, default ``127.0.0.1:8081``), ``topic`` (required),
``group`` (default ``flowapp-<app>_<name>``), ``tag`` (filter expression, default ``*``),
``invisibleDuration`` (default ``PT30S``: how long a received message stays hidden from
other consumers), ``awaitDuration`` (long-polling time, default ``PT5S``), ``namespace``.
``deadLetter: {topic}`` (default ``flowapp-dead-letter-<app>_<name>``).

The adapter talks to :class:`RocketConsumer`/:class:`RocketPublisher`, the few calls it
needs from the 5.x Python client (``rocketmq-python-client``, the optional ``rocketmq``
extra, imported only when a trigger opens). That client is synchronous, so calls run in
worker threads. Tests run the adapter against a fake of these protocols; no RocketMQ
server is exercised.

Event id: the broker's ``message_id`` (unique per message, kept on redelivery); ``time``
is the born timestamp; user properties become extensions, ``tag`` the ``rocketmqtag``
extension. Ack after the sink. On failure ``change_invisible_duration`` to the backoff
delay makes the broker redeliver it then, with ``delivery_attempt`` raised; past
``maxRedeliveries`` the message is sent to the dead-letter topic and acked. (The group's
own max-retry setting must stay above ``maxRedeliveries``, or the broker moves the
message to ``%DLQ%<group>`` first.)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, cast

from flowapp.triggers.base import DeadLetter, Incoming, Owner, TriggerConfig
from flowapp.triggers.errors import DeadLetterError, TriggerConnectionError
from flowapp.triggers.fields import Fields

NAME = r"[%A-Za-z0-9_-]{1,127}"  # the 5.x client's topic and group pattern


@dataclass(frozen=True, slots=True)
class RocketConfig:
    endpoints: str
    topic: str
    group: str
    tag: str
    invisible_duration: float
    await_duration: float
    namespace: str
    dead_letter_topic: str


def parse_rocketmq(body: Fields, dead_letter: Fields, owner: Owner) -> RocketConfig:
    name = owner.name("_")
    return RocketConfig(
        endpoints=body.string("endpoints", default="127.0.0.1:8081"),
        topic=body.required("topic", pattern=NAME),
        group=body.string("group", default=f"flowapp-{name}", pattern=NAME),
        tag=body.string("tag", default="*"),
        invisible_duration=body.duration("invisibleDuration", default=30.0, minimum=1.0),
        await_duration=body.duration("awaitDuration", default=5.0, minimum=1.0),
        namespace=body.string("namespace", default=""),
        dead_letter_topic=dead_letter.string(
            "topic", default=f"flowapp-dead-letter-{name}", pattern=NAME
        ),
    )


class RocketMessage(Protocol):
    """The fields of a 5.x client ``Message`` (a received message view) the trigger reads."""

    @property
    def message_id(self) -> str: ...
    @property
    def topic(self) -> str: ...
    @property
    def body(self) -> bytes: ...
    @property
    def tag(self) -> str | None: ...
    @property
    def properties(self) -> Mapping[str, str]: ...
    @property
    def born_timestamp(self) -> int | None: ...
    @property
    def delivery_attempt(self) -> int | None: ...


class RocketConsumer(Protocol):
    """The SimpleConsumer calls the trigger makes (blocking, as in the 5.x client)."""

    def receive(self, max_message_num: int, invisible_duration: int) -> list[Any]: ...
    def ack(self, message: Any) -> None: ...
    def change_invisible_duration(self, message: Any, invisible_duration: int) -> None: ...
    def shutdown(self) -> None: ...


class RocketPublisher(Protocol):
    def send(self, topic: str, body: bytes, properties: Mapping[str, str]) -> None: ...
    def shutdown(self) -> None: ...


class RocketClients(Protocol):
    """Makes started clients; the real one imports ``rocketmq`` lazily."""

    def consumer(self, settings: RocketConfig) -> RocketConsumer: ...
    def publisher(self, settings: RocketConfig) -> RocketPublisher: ...


def rocketmq_incoming(*, endpoints: str, message: RocketMessage) -> Incoming:
    """The :class:`Incoming` of one received message (pure: testable without a broker)."""
    born = message.born_timestamp
    # The 5.x client gives seconds; be lenient with clients that give milliseconds.
    seconds = born / 1000 if born and born > 10**11 else born
    properties = dict(message.properties or {})
    return Incoming(
        id=message.message_id,
        source=f"rocketmq://{endpoints}/{message.topic}",
        subject=message.topic,
        body=bytes(message.body or b""),
        headers=properties,
        time=datetime.fromtimestamp(seconds, tz=UTC) if seconds else None,
        content_type=properties.get("content-type"),
        deliveries=max(message.delivery_attempt or 1, 1),
        extensions={"rocketmqtag": message.tag} if message.tag else {},
    )


class RocketSource:
    """The RocketMQ side of a ``rocketmq`` trigger (see the module docstring)."""

    def __init__(
        self, config: TriggerConfig, settings: RocketConfig, *, clients: RocketClients
    ) -> None:
        self._config = config
        self._s = settings
        self._clients = clients
        self._consumer: RocketConsumer | None = None
        self._publisher: RocketPublisher | None = None

    async def open(self) -> None:
        try:
            self._consumer = await asyncio.to_thread(self._clients.consumer, self._s)
            self._publisher = await asyncio.to_thread(self._clients.publisher, self._s)
        except Exception as exc:  # the client raises plain Exception subclasses
            raise TriggerConnectionError(f"rocketmq {self._s.endpoints}: {exc!r}") from exc

    def _client(self) -> RocketConsumer:
        if self._consumer is None:
            raise TriggerConnectionError("rocketmq consumer closed")
        return self._consumer

    async def receive(self, limit: int) -> Sequence[RocketMessage]:
        consumer = self._client()
        invisible = int(self._s.invisible_duration)
        try:
            return list(await asyncio.to_thread(consumer.receive, limit, invisible) or [])
        except Exception as exc:
            raise TriggerConnectionError(f"rocketmq receive: {exc!r}") from exc

    def describe(self, message: RocketMessage) -> Incoming:
        return rocketmq_incoming(endpoints=self._s.endpoints, message=message)

    async def ack(self, message: RocketMessage) -> None:
        consumer = self._client()
        try:
            await asyncio.to_thread(consumer.ack, message)
        except Exception as exc:
            raise TriggerConnectionError(f"rocketmq ack: {exc!r}") from exc

    async def redeliver(self, message: RocketMessage, delay: float) -> None:
        consumer = self._client()
        try:
            await asyncio.to_thread(consumer.change_invisible_duration, message, max(1, int(delay)))
        except Exception as exc:
            raise TriggerConnectionError(f"rocketmq change invisible: {exc!r}") from exc

    async def dead_letter(self, message: RocketMessage, letter: DeadLetter) -> None:
        if self._publisher is None:
            raise DeadLetterError("rocketmq publisher closed")
        properties = {**dict(message.properties or {}), **letter.headers()}
        try:
            await asyncio.to_thread(
                self._publisher.send, self._s.dead_letter_topic, message.body, properties
            )
        except Exception as exc:
            raise DeadLetterError(f"rocketmq dead letter: {exc!r}") from exc

    async def close(self) -> None:
        clients: list[RocketConsumer | RocketPublisher | None] = [self._consumer, self._publisher]
        self._consumer = self._publisher = None
        for client in clients:
            if client is not None:
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(client.shutdown)


class RealRocketClients:
    """:class:`RocketClients` over ``rocketmq-python-client`` 5.x, imported on first use."""

    def consumer(self, settings: RocketConfig) -> RocketConsumer:
        rocketmq = _client_module()
        consumer = rocketmq.SimpleConsumer(
            self._configuration(rocketmq, settings),
            settings.group,
            await_duration=int(settings.await_duration),
        )
        consumer.startup()
        consumer.subscribe(settings.topic, rocketmq.FilterExpression(settings.tag))
        return cast(RocketConsumer, consumer)

    def publisher(self, settings: RocketConfig) -> RocketPublisher:
        rocketmq = _client_module()
        producer = rocketmq.Producer(
            self._configuration(rocketmq, settings), (settings.dead_letter_topic,)
        )
        producer.startup()
        return _Publisher(rocketmq, producer)

    @staticmethod
    def _configuration(rocketmq: Any, settings: RocketConfig) -> Any:
        return rocketmq.ClientConfiguration(
            settings.endpoints, rocketmq.Credentials(), namespace=settings.namespace
        )


@dataclass(frozen=True, slots=True)
class _Publisher:
    module: Any
    producer: Any

    def send(self, topic: str, body: bytes, properties: Mapping[str, str]) -> None:
        message = self.module.Message()
        message.topic = topic
        message.body = body
        for key, value in properties.items():
            if key and value:  # the client refuses blank property keys and values
                message.add_property(key, value)
        self.producer.send(message)

    def shutdown(self) -> None:
        self.producer.shutdown()


def _client_module() -> Any:
    try:
        import rocketmq  # an optional extra, needed only by rocketmq triggers
    except ImportError as exc:
        raise TriggerConnectionError(
            "the rocketmq trigger needs the optional client: pip install 'flowapp[rocketmq]'"
        ) from exc
    return rocketmq
