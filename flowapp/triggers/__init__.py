"""Triggers: event sources that turn broker messages, schedules and webhooks into CloudEvents.

A FlowApp's ``spec.triggers[i]`` is parsed by :func:`parse_trigger` (a typed
:class:`TriggerConfig`, or problems with JSON pointers), built by :func:`build_trigger`
and started with a sink: ``await trigger.start(sink)``. The sink creates the execution
durably; the trigger acknowledges the message only after it returned. Kinds: ``nats``,
``rabbitmq``, ``redis``, ``mqtt``, ``kafka``, ``rocketmq`` (broker adapters under one
runner), ``cron`` and ``http`` (webhooks, mounted by the API server). See
``docs/triggers.md`` for every key and guarantee.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowapp.lazy import lazy_names

if TYPE_CHECKING:
    from flowapp.triggers.base import (
        Backoff,
        DeadLetter,
        Event,
        Incoming,
        Sink,
        Source,
        Trigger,
        TriggerConfig,
        TriggerState,
        TriggerStatus,
    )
    from flowapp.triggers.config import KINDS, load_trigger, parse_trigger, parse_triggers
    from flowapp.triggers.cron_trigger import Clock, CronState, MemoryCronState
    from flowapp.triggers.errors import (
        DeadLetterError,
        EventMappingError,
        TriggerConfigError,
        TriggerConnectionError,
        TriggerError,
        WebhookError,
    )
    from flowapp.triggers.registry import build_trigger
    from flowapp.triggers.webhook import HttpRequest
    from flowapp.triggers.webhook_trigger import WebhookTrigger

# Each name is imported from its module when first used (``flowapp.lazy``).
_HOMES = {
    "Backoff": "flowapp.triggers.base",
    "DeadLetter": "flowapp.triggers.base",
    "Event": "flowapp.triggers.base",
    "Incoming": "flowapp.triggers.base",
    "Sink": "flowapp.triggers.base",
    "Source": "flowapp.triggers.base",
    "Trigger": "flowapp.triggers.base",
    "TriggerConfig": "flowapp.triggers.base",
    "TriggerState": "flowapp.triggers.base",
    "TriggerStatus": "flowapp.triggers.base",
    "KINDS": "flowapp.triggers.config",
    "load_trigger": "flowapp.triggers.config",
    "parse_trigger": "flowapp.triggers.config",
    "parse_triggers": "flowapp.triggers.config",
    "Clock": "flowapp.triggers.cron_trigger",
    "CronState": "flowapp.triggers.cron_trigger",
    "MemoryCronState": "flowapp.triggers.cron_trigger",
    "DeadLetterError": "flowapp.triggers.errors",
    "EventMappingError": "flowapp.triggers.errors",
    "TriggerConfigError": "flowapp.triggers.errors",
    "TriggerConnectionError": "flowapp.triggers.errors",
    "TriggerError": "flowapp.triggers.errors",
    "WebhookError": "flowapp.triggers.errors",
    "build_trigger": "flowapp.triggers.registry",
    "HttpRequest": "flowapp.triggers.webhook",
    "WebhookTrigger": "flowapp.triggers.webhook_trigger",
}

__all__ = [
    "KINDS",
    "Backoff",
    "Clock",
    "CronState",
    "DeadLetter",
    "DeadLetterError",
    "Event",
    "EventMappingError",
    "HttpRequest",
    "Incoming",
    "MemoryCronState",
    "Sink",
    "Source",
    "Trigger",
    "TriggerConfig",
    "TriggerConfigError",
    "TriggerConnectionError",
    "TriggerError",
    "TriggerState",
    "TriggerStatus",
    "WebhookError",
    "WebhookTrigger",
    "build_trigger",
    "load_trigger",
    "parse_trigger",
    "parse_triggers",
]


__getattr__ = lazy_names(__name__, _HOMES)
