"""The ``mqtt`` trigger: a QoS 1 subscription in a persistent MQTT 5 session.

Keys: ``url`` (default ``mqtt://127.0.0.1:1883``; user and password may be in it),
``topic`` (required; a filter, ``$share/<group>/...`` for several replicas), ``clientId``
(default ``flowapp-<app>:<name>``: fixed, it names the session), ``sessionExpiry`` (default
``P7D``: how long the broker keeps the session and queues messages while the trigger is
down), ``idProperty`` (a user property holding the message's id). ``deadLetter: {topic}``
(default ``flowapp/dead-letter/<app>/<name>``; must not match ``topic``).

The session is persistent (clean start off, session expiry set), so QoS 1 messages
published while the platform is down are delivered when it reconnects. aiomqtt 2.5 sends
the PUBACK as soon as a message is read; the trigger turns on paho's ``manual_ack`` on the
client aiomqtt wraps and sends the PUBACK itself, only after the sink returned. A message
not acked is re-sent by the broker when the session reconnects (MQTT re-sends only then),
so a failed sink is retried in process (backoff, counted in memory) and dead-lettered past
``maxRedeliveries``; the count starts again after a restart. ``Receive Maximum =
maxInFlight`` makes the broker stop sending while that many messages are unacknowledged.

Event id: the ``idProperty`` user property when set, else a digest of topic, packet id
and payload: the broker re-sends an unacknowledged message with its original packet id,
so the id is stable across redeliveries. MQTT gives no broker timestamp: no ``time``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import unquote, urlsplit

import aiomqtt
import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from flowapp.triggers.base import DeadLetter, Incoming, Owner, TriggerConfig
from flowapp.triggers.errors import DeadLetterError, TriggerConnectionError
from flowapp.triggers.events import digest_id, safe_url
from flowapp.triggers.fields import Fields

_DRIVER_ERRORS = (aiomqtt.MqttError, OSError, asyncio.TimeoutError)


@dataclass(frozen=True, slots=True)
class MqttConfig:
    url: str
    topic: str
    client_id: str
    session_expiry: float
    id_property: str | None
    dead_letter_topic: str


def parse_mqtt(body: Fields, dead_letter: Fields, owner: Owner) -> MqttConfig:
    topic = body.required("topic")
    dl_topic = dead_letter.string("topic", default=f"flowapp/dead-letter/{owner.name('/')}")
    if "+" in dl_topic or "#" in dl_topic:
        dead_letter.problem("topic", "a dead-letter topic cannot contain wildcards")
    elif topic and paho.topic_matches_sub(_filter(topic), dl_topic):
        dead_letter.problem("topic", f"`{dl_topic}` matches `{topic}`: it would loop back")
    return MqttConfig(
        url=body.string("url", default="mqtt://127.0.0.1:1883"),
        topic=topic,
        client_id=body.string("clientId", default=f"flowapp-{owner.name(':')}"),
        session_expiry=body.duration("sessionExpiry", default=7 * 86400.0, minimum=1),
        id_property=body.optional("idProperty"),
        dead_letter_topic=dl_topic,
    )


def _filter(topic: str) -> str:
    """The topic filter proper of a subscription, without a ``$share/<group>/`` prefix."""
    return topic.split("/", 2)[-1] if topic.startswith("$share/") else topic


@dataclass(frozen=True, slots=True)
class MqttDelivery:
    message: aiomqtt.Message
    deliveries: int
    session: int  # which connection it came on: a packet id means nothing on another


def mqtt_incoming(
    *,
    source: str,
    topic: str,
    payload: bytes,
    mid: int,
    properties: Any,
    id_property: str | None,
    deliveries: int,
) -> Incoming:
    """The :class:`Incoming` of one PUBLISH (pure: testable without a broker)."""
    headers = dict(getattr(properties, "UserProperty", None) or [])
    own_id = headers.get(id_property) if id_property else None
    return Incoming(
        id=own_id or digest_id("mqtt", topic, str(mid), payload),
        source=source,
        subject=topic,
        body=payload,
        headers=headers,
        content_type=getattr(properties, "ContentType", None),
        deliveries=deliveries,
    )


class MqttSource:
    """The MQTT side of an ``mqtt`` trigger (see the module docstring)."""

    def __init__(self, config: TriggerConfig, settings: MqttConfig) -> None:
        self._config = config
        self._s = settings
        self._source = f"{safe_url(settings.url)}/{settings.topic}"
        self._client: aiomqtt.Client | None = None
        self._entered = False
        self._next: asyncio.Task[aiomqtt.Message] | None = None
        self._session = 0

    async def open(self) -> None:
        self._session += 1
        self._client = self._new_client()
        # Before connecting: the session's stored messages arrive right after CONNACK.
        self._client._client.manual_ack_set(True)
        try:
            await self._client.__aenter__()
            self._entered = True
            await self._client.subscribe(self._s.topic, qos=1)
        except _DRIVER_ERRORS as exc:
            raise TriggerConnectionError(f"mqtt {self._source}: {exc!r}") from exc

    def _new_client(self) -> aiomqtt.Client:
        url = urlsplit(self._s.url)
        connect = _properties(PacketTypes.CONNECT)
        connect.SessionExpiryInterval = int(self._s.session_expiry)
        connect.ReceiveMaximum = min(self._config.max_in_flight, 65535)
        return aiomqtt.Client(
            url.hostname or "127.0.0.1",
            url.port or 1883,
            username=unquote(url.username) if url.username else None,
            password=unquote(url.password) if url.password else None,
            identifier=self._s.client_id,
            protocol=aiomqtt.ProtocolVersion.V5,
            clean_start=False,
            properties=connect,
            timeout=5,
            keepalive=30,
        )

    @property
    def _connected(self) -> aiomqtt.Client:
        if self._client is None:
            raise TriggerConnectionError("mqtt connection closed")
        return self._client

    async def receive(self, limit: int) -> Sequence[MqttDelivery]:
        client = self._connected
        # One pending read survives across calls: cancelling it could drop a message.
        if self._next is None:
            self._next = asyncio.ensure_future(anext(client.messages))
        done, _ = await asyncio.wait({self._next}, timeout=1.0)
        if not done:
            return []
        try:
            batch = [self._next.result()]
            while len(batch) < limit and len(client.messages):
                batch.append(await anext(client.messages))
        except _DRIVER_ERRORS as exc:
            raise TriggerConnectionError(f"mqtt: {exc!r}") from exc
        finally:
            self._next = None
        return [MqttDelivery(m, 1, self._session) for m in batch]

    def describe(self, message: MqttDelivery) -> Incoming:
        m = message.message
        return mqtt_incoming(
            source=self._source,
            topic=m.topic.value,
            payload=bytes(m.payload) if isinstance(m.payload, bytes | bytearray) else b"",
            mid=m.mid,
            properties=m.properties,
            id_property=self._s.id_property,
            deliveries=message.deliveries,
        )

    async def ack(self, message: MqttDelivery) -> None:
        if message.session != self._session or self._client is None:
            raise TriggerConnectionError("mqtt session changed; the broker re-sends the message")
        rc = self._client._client.ack(message.message.mid, message.message.qos)
        if rc != paho.MQTT_ERR_SUCCESS:
            raise TriggerConnectionError(f"mqtt PUBACK failed: {paho.error_string(rc)}")

    async def redeliver(self, message: MqttDelivery, delay: float) -> MqttDelivery:
        await asyncio.sleep(delay)
        return replace(message, deliveries=message.deliveries + 1)

    async def dead_letter(self, message: MqttDelivery, letter: DeadLetter) -> None:
        incoming = self.describe(message)
        props = _properties(PacketTypes.PUBLISH)
        props.UserProperty = [*dict(incoming.headers).items(), *letter.headers().items()]
        if incoming.content_type:
            props.ContentType = incoming.content_type
        try:
            await self._connected.publish(
                self._s.dead_letter_topic, incoming.body, qos=1, properties=props
            )
        except _DRIVER_ERRORS as exc:
            raise DeadLetterError(f"mqtt dead letter: {exc!r}") from exc

    async def close(self) -> None:
        client, self._client = self._client, None
        if self._next is not None:
            self._next.cancel()
            with contextlib.suppress(asyncio.CancelledError, *_DRIVER_ERRORS):
                await self._next
            self._next = None
        if client is not None and self._entered:
            self._entered = False
            with contextlib.suppress(*_DRIVER_ERRORS):
                await client.__aexit__(None, None, None)


def _properties(packet_type: int) -> Properties:
    return Properties(packet_type)  # type: ignore[no-untyped-call]  # paho: untyped
