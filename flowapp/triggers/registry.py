"""``build_trigger``: from a trigger configuration to a running-ready :class:`Trigger`.

Broker kinds become a :class:`BrokerTrigger` around the kind's ``Source``; ``cron`` a
:class:`CronTrigger` (with the platform's ``CronState``); ``http`` a
:class:`WebhookTrigger` that the API server mounts. Building opens no connection: that
happens in ``start``, so building never fails because a broker is down.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flowapp.triggers.base import Backoff, Source, Trigger, TriggerConfig
from flowapp.triggers.config import load_trigger
from flowapp.triggers.cron_trigger import Clock, CronState, CronTrigger, MemoryCronState
from flowapp.triggers.kafka import KafkaSource
from flowapp.triggers.metrics import UNOBSERVED, TriggerObserver
from flowapp.triggers.mqtt import MqttSource
from flowapp.triggers.nats import NatsSource
from flowapp.triggers.rabbitmq import RabbitSource
from flowapp.triggers.redis import RedisSource
from flowapp.triggers.rocketmq import RealRocketClients, RocketClients, RocketSource
from flowapp.triggers.runner import RECONNECT, BrokerTrigger
from flowapp.triggers.webhook_trigger import WebhookTrigger

SOURCES: dict[str, Callable[[TriggerConfig], Source[Any]]] = {
    "nats": lambda c: NatsSource(c, c.source),
    "rabbitmq": lambda c: RabbitSource(c, c.source),
    "redis": lambda c: RedisSource(c, c.source),
    "mqtt": lambda c: MqttSource(c, c.source),
    "kafka": lambda c: KafkaSource(c, c.source),
}


def build_trigger(
    config: TriggerConfig | Mapping[str, Any],
    *,
    cron_state: CronState | None = None,
    clock: Clock | None = None,
    reconnect: Backoff = RECONNECT,
    rocketmq_clients: RocketClients | None = None,
    environ: Mapping[str, str] | None = None,
    observer: TriggerObserver = UNOBSERVED,
) -> Trigger:
    """The trigger for ``config`` (a parsed config, or a raw ``spec.triggers[i]`` item).

    ``cron_state`` defaults to memory, which forgets the last fire on restart (so no
    catch-up): the platform passes its durable store. ``observer`` is told of
    redeliveries and dead letters (``metrics.py``).
    """
    if not isinstance(config, TriggerConfig):
        config = load_trigger(config)
    if config.kind == "cron":
        state = cron_state or MemoryCronState()
        return CronTrigger(config, state=state, clock=clock, observer=observer)
    if config.kind == "http":
        return WebhookTrigger(config, environ=environ)
    if config.kind == "rocketmq":
        clients = rocketmq_clients or RealRocketClients()
        source: Source[Any] = RocketSource(config, config.source, clients=clients)
    else:
        source = SOURCES[config.kind](config)
    return BrokerTrigger(config, source, reconnect=reconnect, observer=observer)
