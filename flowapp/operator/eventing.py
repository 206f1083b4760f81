"""Knative Eventing for a FlowApp: its Broker, its sources, and the Triggers that route.

Data flow on the cluster::

    PingSource (cron), KafkaSource, RedisStreamSource ─┐
    engine `emit` ─────────────────────────────────────┴─> Broker <app> (or a shared one)
        ├─ Trigger <app>-on-<trigger> ─> engine (a Sequence in Flows mode)
        └─ Trigger <app>-events ───────> engine (``listen``, ``schedule.on``)

Each source stamps its events with two CloudEvents extensions (``ceOverrides``):
``flowapp`` (the app) and ``flowapptrigger`` (the trigger's name), and the app's Trigger
for that source filters on both, so one Broker can serve many apps and sources without
crosstalk. ``spec.delivery`` becomes the Knative ``DeliverySpec`` of the Broker and of
every Trigger; a dead-letter sink that names a function becomes a ``ref`` to its Service.

Which FlowApp triggers become Knative sources (``knative_kind``) and which keep running
inside the engine, as they do on one machine, is decided per kind; docs/kubernetes.md
gives the reasons.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from flowapp.apps.model import FlowApp
from flowapp.dsl.durations import format_iso_duration
from flowapp.events.delivery import DeliverySpec
from flowapp.operator import names
from flowapp.triggers.base import TriggerConfig

Obj = dict[str, Any]
EVENTING = "eventing.knative.dev/v1"
SOURCES = "sources.knative.dev/v1"
APP_EXTENSION = "flowapp"
TRIGGER_EXTENSION = "flowapptrigger"

SOURCE_KINDS = {
    "cron": ("PingSource", SOURCES),
    "kafka": ("KafkaSource", "sources.knative.dev/v1beta1"),
    "redis": ("RedisStreamSource", "sources.knative.dev/v1alpha1"),
}


def knative_kind(trigger: TriggerConfig) -> str | None:
    """The Knative source a trigger becomes, or None when it runs inside the engine."""
    if trigger.kind == "cron" and trigger.source.schedule is None:
        return None  # `every` is an interval; PingSource takes cron schedules only
    if trigger.kind == "redis" and not _bare_redis_address(trigger.source.url):
        return None  # RedisStreamSource takes host:port only: no password, database 0
    entry = SOURCE_KINDS.get(trigger.kind)
    return entry[0] if entry else None


def engine_reason(trigger: TriggerConfig) -> str:
    """Why a trigger runs inside the engine (for ``--explain``)."""
    if trigger.kind == "http":
        return f"trigger `{trigger.name}` (http) is a webhook served by the engine"
    if trigger.kind == "cron":
        return f"trigger `{trigger.name}` (cron `every`) is an interval, which PingSource lacks"
    if trigger.kind == "redis":
        return (
            f"trigger `{trigger.name}` (redis) has a password or database in its URL, "
            "which RedisStreamSource cannot take"
        )
    return f"trigger `{trigger.name}` ({trigger.kind}) runs inside the engine"


def _bare_redis_address(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.password and not parts.username and parts.path in ("", "/", "/0")


# --- objects ---------------------------------------------------------------------------------


def broker(app: str, namespace: str, delivery: DeliverySpec, dead_letter: Obj | None) -> Obj:
    return {
        "apiVersion": EVENTING,
        "kind": "Broker",
        "metadata": {
            "name": names.broker(app),
            "namespace": namespace,
            "labels": names.labels(app, "broker"),
        },
        "spec": {"delivery": delivery_spec(delivery, dead_letter)},
    }


def broker_ref(name: str, namespace: str) -> Obj:
    return {"ref": {"apiVersion": EVENTING, "kind": "Broker", "name": name, "namespace": namespace}}


def knative_trigger(
    app: str,
    namespace: str,
    *,
    name: str,
    broker_name: str,
    subscriber: Obj,
    filters: list[Obj] | None,
    delivery: Obj,
    trigger: str | None = None,
) -> Obj:
    extra = {"trigger": trigger} if trigger else {}
    spec: Obj = {"broker": broker_name, "subscriber": subscriber, "delivery": delivery}
    if filters:
        spec["filters"] = filters
    return {
        "apiVersion": EVENTING,
        "kind": "Trigger",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": names.labels(app, "trigger", **extra),
        },
        "spec": spec,
    }


def source_filter(app: str, trigger: str) -> list[Obj]:
    """Knative ``filters`` selecting the events one source of one app sent."""
    return [{"exact": {APP_EXTENSION: app}}, {"exact": {TRIGGER_EXTENSION: trigger}}]


def source(app: FlowApp, namespace: str, trigger: TriggerConfig, sink: Obj) -> Obj:
    kind, api_version = SOURCE_KINDS[trigger.kind]
    overrides = {"extensions": {APP_EXTENSION: app.name, TRIGGER_EXTENSION: trigger.name}}
    spec: Obj = {"sink": sink, "ceOverrides": overrides} | _SOURCE_SPECS[trigger.kind](trigger)
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {
            "name": names.source(app.name, trigger.name),
            "namespace": namespace,
            "labels": names.labels(app.name, "source", trigger=trigger.name),
        },
        "spec": spec,
    }


def _ping(trigger: TriggerConfig) -> Obj:
    config = trigger.source
    spec: Obj = {"schedule": config.schedule, "timezone": config.timezone}
    if config.data is not None:
        spec |= {"contentType": "application/json", "data": json.dumps(config.data)}
    return spec


def _kafka(trigger: TriggerConfig) -> Obj:
    config = trigger.source
    return {
        "bootstrapServers": list(config.bootstrap_servers),
        "topics": [config.topic],
        "consumerGroup": config.group,
        "initialOffset": config.start_from,
    }


def _redis(trigger: TriggerConfig) -> Obj:
    config = trigger.source
    return {"address": urlsplit(config.url).netloc, "stream": config.stream, "group": config.group}


_SOURCE_SPECS = {"cron": _ping, "kafka": _kafka, "redis": _redis}


def delivery_spec(spec: DeliverySpec, dead_letter: Obj | None) -> Obj:
    """A FlowApp's ``spec.delivery`` as Knative's ``DeliverySpec``."""
    found: Obj = {"retry": spec.retry, "backoffPolicy": spec.backoff_policy.value}
    if spec.backoff_delay:
        found["backoffDelay"] = format_iso_duration(spec.backoff_delay)
    if spec.timeout is not None:
        found["timeout"] = format_iso_duration(spec.timeout)
    if dead_letter is not None:
        found["deadLetterSink"] = dead_letter
    return found
