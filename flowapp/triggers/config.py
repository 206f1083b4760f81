"""Parsing ``spec.triggers[i]`` into a :class:`TriggerConfig`, or a list of problems.

A trigger item is ``{name, <kind>: {...}, <common keys>}`` with exactly one kind key. The
common keys are read here; the kind's own mapping (and ``deadLetter``) by the kind's
``parse_<kind>`` function. Problems carry JSON pointers relative to the trigger item
(``/cron/schedule``); the caller prefixes ``/spec/triggers/<i>`` and fills file and line.

Common keys (brokers: all of them; ``cron``: name, type, maxRedeliveries, backoff*;
``http``: name, type, maxBytes, read, nonJson):

- ``name``: a DNS label, unique in the FlowApp; with the app's name it names defaults
  (queues, groups, durable consumers, client ids: ``Owner``).
- ``maxInFlight`` (16), ``maxRedeliveries`` (5), ``maxBytes`` (1 MiB).
- ``read``: ``data`` (default) or ``envelope``; ``nonJson``: ``text`` (default) or ``base64``.
- ``type``: the CloudEvents type (default ``dev.flowapp.trigger.<kind>``).
- ``backoffPolicy`` (``exponential``, default, or ``linear``) and ``backoffDelay``
  (default ``PT1S``): the delay before each redelivery, capped at five minutes.
- ``deadLetter``: the kind's dead-letter destination.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from flowapp.dsl.problems import Problem, join_pointer
from flowapp.triggers.base import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_IN_FLIGHT,
    DEFAULT_MAX_REDELIVERIES,
    Backoff,
    BackoffPolicy,
    Owner,
    TriggerConfig,
)
from flowapp.triggers.errors import TriggerConfigError
from flowapp.triggers.fields import Fields
from flowapp.triggers.webhook import parse_http

NAME = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
BROKER_KEYS = frozenset(
    {
        "maxInFlight",
        "maxRedeliveries",
        "maxBytes",
        "read",
        "nonJson",
        "type",
        "backoffPolicy",
        "backoffDelay",
        "deadLetter",
    }
)
_CRON = frozenset({"type", "maxRedeliveries", "backoffPolicy", "backoffDelay"})
_HTTP = frozenset({"type", "maxBytes", "read", "nonJson"})


Parser = Callable[[Fields, Fields, Owner], Any]


@dataclass(frozen=True, slots=True)
class KindSpec:
    """A kind's parser and common keys. A kind's parser lives beside its client
    (``flowapp.triggers.nats`` imports the NATS library, ``cron`` croniter): it is named
    here and imported only when an item of that kind is parsed, so that checking a
    FlowApp does not load every broker's client."""

    parser: Parser | tuple[str, str]
    common: frozenset[str]

    @property
    def parse(self) -> Parser:
        if callable(self.parser):
            return self.parser
        module, name = self.parser
        return cast(Parser, getattr(importlib.import_module(module), name))


def _broker(kind: str) -> KindSpec:
    return KindSpec((f"flowapp.triggers.{kind}", f"parse_{kind}"), BROKER_KEYS)


KINDS: dict[str, KindSpec] = {
    "nats": _broker("nats"),
    "rabbitmq": _broker("rabbitmq"),
    "redis": _broker("redis"),
    "mqtt": _broker("mqtt"),
    "kafka": _broker("kafka"),
    "rocketmq": _broker("rocketmq"),
    "cron": KindSpec(("flowapp.triggers.cron", "parse_cron"), _CRON),
    "http": KindSpec(parse_http, _HTTP),
}


def parse_trigger(item: Any, *, app: str | None = None) -> TriggerConfig | list[Problem]:
    """A typed trigger configuration, or every problem found in ``item``; ``app`` is the
    app it belongs to, whose name the broker-side names it makes up include (``Owner``)."""
    problems: list[Problem] = []
    fields = Fields(item, pointer="", problems=problems)
    name = fields.required("name", pattern=NAME)
    kind = _kind(item, fields)
    if kind is None:
        fields.finish()
        return problems
    spec = KINDS[kind]
    body = fields.mapping(kind) or Fields({}, pointer=f"/{kind}", problems=problems)
    dead_letter = None
    if "deadLetter" in spec.common:
        dead_letter = fields.mapping("deadLetter")
    dead_letter = dead_letter or Fields({}, pointer="/deadLetter", problems=[])
    source = spec.parse(body, dead_letter, Owner(name or kind, app))
    common = _common(fields, spec, kind)
    for part in (body, dead_letter, fields):
        part.finish()
    if problems:
        return problems
    return TriggerConfig(name=name, kind=kind, source=source, **common)


def load_trigger(item: Any, *, app: str | None = None) -> TriggerConfig:
    """Like :func:`parse_trigger`, raising ``TriggerConfigError`` with every problem."""
    parsed = parse_trigger(item, app=app)
    if isinstance(parsed, list):
        raise TriggerConfigError(parsed)
    return parsed


def parse_triggers(
    items: Sequence[Any], *, app: str | None = None
) -> tuple[list[TriggerConfig], list[Problem]]:
    """All of ``spec.triggers`` of ``app``; pointers are relative to the list
    (``/0/nats/subject``)."""
    configs: list[TriggerConfig] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        parsed = parse_trigger(item, app=app)
        if isinstance(parsed, list):
            prefix = join_pointer("", index)
            problems += [Problem(prefix + p.pointer, p.message) for p in parsed]
            continue
        if parsed.name in seen:
            message = f"trigger name `{parsed.name}` is already used by /{seen[parsed.name]}"
            problems.append(Problem(f"/{index}/name", message))
        seen.setdefault(parsed.name, index)
        configs.append(parsed)
    return configs, problems


def _kind(item: Any, fields: Fields) -> str | None:
    present = [k for k in KINDS if isinstance(item, dict) and k in item]
    for kind in present:
        fields.raw(kind)
    if not present:
        if isinstance(item, dict):
            fields.problem(None, f"missing the trigger's kind: one of {', '.join(KINDS)}")
        return None
    if len(present) > 1:
        listed = " and ".join(f"`{k}`" for k in present)
        fields.problem(None, f"a trigger has exactly one kind, found {listed}")
        return None
    return present[0]


def _common(fields: Fields, spec: KindSpec, kind: str) -> dict[str, Any]:
    for key in sorted(BROKER_KEYS - spec.common):
        if fields.has(key):
            fields.raw(key)
            fields.problem(key, f"`{key}` does not apply to {kind} triggers")
    policy = fields.choice("backoffPolicy", ("exponential", "linear"), default="exponential")
    backoff = Backoff(
        delay=fields.duration("backoffDelay", default=1.0),
        policy=cast(BackoffPolicy, policy),
    )
    return {
        "max_in_flight": fields.integer(
            "maxInFlight", default=DEFAULT_MAX_IN_FLIGHT, minimum=1, maximum=10_000
        ),
        "max_redeliveries": fields.integer(
            "maxRedeliveries", default=DEFAULT_MAX_REDELIVERIES, minimum=0, maximum=1000
        ),
        "max_bytes": fields.integer("maxBytes", default=DEFAULT_MAX_BYTES, minimum=1),
        "read": fields.choice("read", ("data", "envelope"), default="data"),
        "non_json": fields.choice("nonJson", ("text", "base64"), default="text"),
        "event_type": fields.optional("type"),
        "backoff": backoff,
    }
