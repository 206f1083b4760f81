"""Parsing ``spec.triggers[i]``: typed configs for every kind, problems with pointers."""

from __future__ import annotations

from typing import Any

import pytest

from flowapp.dsl.problems import Problem
from flowapp.triggers import TriggerConfig, TriggerConfigError, load_trigger, parse_trigger
from flowapp.triggers.config import parse_triggers
from flowapp.triggers.cron import CronConfig
from flowapp.triggers.kafka import KafkaConfig
from flowapp.triggers.mqtt import MqttConfig
from flowapp.triggers.nats import NatsConfig
from flowapp.triggers.rabbitmq import RabbitConfig
from flowapp.triggers.redis import RedisConfig
from flowapp.triggers.rocketmq import RocketConfig
from flowapp.triggers.webhook import WebhookConfig

MINIMAL: dict[str, dict[str, Any]] = {
    "nats": {"subject": "orders.created"},
    "rabbitmq": {},
    "redis": {"stream": "orders"},
    "mqtt": {"topic": "sensors/+/temp"},
    "kafka": {"topic": "orders"},
    "rocketmq": {"topic": "orders"},
    "cron": {"schedule": "0 2 * * *", "timezone": "Asia/Shanghai"},
    "http": {"path": "/hooks/orders", "public": True},
}
CONFIG_TYPES = {
    "nats": NatsConfig,
    "rabbitmq": RabbitConfig,
    "redis": RedisConfig,
    "mqtt": MqttConfig,
    "kafka": KafkaConfig,
    "rocketmq": RocketConfig,
    "cron": CronConfig,
    "http": WebhookConfig,
}


def problems_of(item: Any) -> list[tuple[str, str]]:
    parsed = parse_trigger(item)
    assert isinstance(parsed, list), f"expected problems, got {parsed}"
    return [(p.pointer, p.message) for p in parsed]


def config_of(item: Any) -> TriggerConfig:
    parsed = parse_trigger(item)
    assert isinstance(parsed, TriggerConfig), parsed
    return parsed


@pytest.mark.parametrize("kind", sorted(MINIMAL))
def test_every_kind_parses_its_minimal_item(kind: str) -> None:
    config = config_of({"name": "orders", kind: MINIMAL[kind]})
    assert config.kind == kind
    assert isinstance(config.source, CONFIG_TYPES[kind])
    assert config.type == f"dev.flowapp.trigger.{kind}"


def test_common_defaults() -> None:
    config = config_of({"name": "orders", "nats": {"subject": "a.b"}})
    assert (config.max_in_flight, config.max_redeliveries, config.max_bytes) == (16, 5, 1 << 20)
    assert (config.read, config.non_json, config.event_type) == ("data", "text", None)
    assert config.backoff.delay == 1.0 and config.backoff.policy == "exponential"


def test_the_example_from_the_brief_parses_with_its_values() -> None:
    item = {
        "name": "orders",
        "nats": {"subject": "orders.created", "stream": "ORDERS", "durable": "flowapp-orders"},
        "maxInFlight": 16,
        "read": "envelope",
        "deadLetter": {"subject": "orders.dead"},
        "backoffDelay": "PT0.5S",
        "backoffPolicy": "linear",
        "type": "com.example.order.created",
    }
    config = config_of(item)
    assert config.source.stream == "ORDERS" and config.source.durable == "flowapp-orders"
    assert config.source.dead_letter_subject == "orders.dead"
    assert config.read == "envelope" and config.type == "com.example.order.created"
    assert config.backoff.delay == 0.5 and config.backoff.policy == "linear"


def test_per_kind_defaults_are_derived_from_the_name() -> None:
    nats = config_of({"name": "orders", "nats": {"subject": "a"}}).source
    assert (nats.stream, nats.durable) == ("FLOWAPP_ORDERS", "flowapp-orders")
    # per stream, so triggers of one name on two streams cannot claim one subject
    assert nats.dead_letter_subject == "flowapp.dead-letter.FLOWAPP_ORDERS"
    rabbit = config_of({"name": "orders", "rabbitmq": {}}).source
    assert (rabbit.queue, rabbit.dead_letter_queue) == (
        "flowapp.orders",
        "flowapp.dead-letter.orders",
    )
    kafka = config_of({"name": "orders", "kafka": {"topic": "t"}}).source
    assert (kafka.group, kafka.dead_letter_topic) == (
        "flowapp-orders",
        "flowapp.dead-letter.orders",
    )
    mqtt = config_of({"name": "orders", "mqtt": {"topic": "a/#"}}).source
    assert (mqtt.client_id, mqtt.dead_letter_topic) == (
        "flowapp-orders",
        "flowapp/dead-letter/orders",
    )


def test_a_bad_cron_expression_points_at_the_schedule() -> None:
    assert problems_of({"name": "n", "cron": {"schedule": "61 * * * *"}}) == [
        (
            "/cron/schedule",
            "`61 * * * *` is not a cron expression (minute hour day-of-month month day-of-week)",
        )
    ]


def test_an_unknown_time_zone_points_at_the_timezone() -> None:
    found = problems_of({"name": "n", "cron": {"schedule": "0 2 * * *", "timezone": "Mars/Base"}})
    assert found == [("/cron/timezone", "unknown time zone `Mars/Base` (use an IANA name)")]


def test_an_unknown_key_is_reported_with_a_hint() -> None:
    found = problems_of({"name": "n", "nats": {"subject": "a", "strem": "S"}})
    assert found == [("/nats/strem", "unknown key `strem` (did you mean `stream`?)")]


def test_an_unknown_top_level_key_is_reported() -> None:
    found = problems_of({"name": "n", "nats": {"subject": "a"}, "maxInflight": 3})
    assert found == [("/maxInflight", "unknown key `maxInflight` (did you mean `maxInFlight`?)")]


def test_a_missing_required_key_is_reported_on_its_parent() -> None:
    assert problems_of({"name": "n", "nats": {"stream": "S"}}) == [
        ("/nats", "missing required key `subject`")
    ]
    assert problems_of({"kafka": {"topic": "t"}}) == [("", "missing required key `name`")]


def test_two_kinds_in_one_trigger() -> None:
    found = problems_of({"name": "n", "nats": {"subject": "a"}, "kafka": {"topic": "t"}})
    assert found == [("", "a trigger has exactly one kind, found `nats` and `kafka`")]


def test_no_kind_at_all() -> None:
    [(pointer, message)] = problems_of({"name": "n"})
    assert pointer == "" and message.startswith("missing the trigger's kind: one of nats")


def test_every_problem_is_reported_at_once() -> None:
    item = {
        "name": "Bad Name",
        "redis": {"stream": 5, "startFrom": "middle"},
        "maxInFlight": 0,
        "read": "body",
        "backoffDelay": "soon",
    }
    pointers = {pointer for pointer, _ in problems_of(item)}
    assert pointers == {
        "/name",
        "/redis/stream",
        "/redis/startFrom",
        "/maxInFlight",
        "/read",
        "/backoffDelay",
    }


def test_keys_that_do_not_apply_to_a_kind() -> None:
    found = problems_of(
        {"name": "n", "cron": {"every": "PT5M"}, "maxInFlight": 4, "deadLetter": {"topic": "x"}}
    )
    assert found == [
        ("/deadLetter", "`deadLetter` does not apply to cron triggers"),
        ("/maxInFlight", "`maxInFlight` does not apply to cron triggers"),
    ]


def test_cron_needs_exactly_one_of_schedule_and_every() -> None:
    both = problems_of({"name": "n", "cron": {"schedule": "* * * * *", "every": "PT1M"}})
    assert both == [("/cron", "give exactly one of `schedule` and `every`")]
    assert problems_of({"name": "n", "cron": {}}) == [
        ("/cron", "give exactly one of `schedule` and `every`")
    ]


def test_cron_schedule_that_never_fires() -> None:
    found = problems_of({"name": "n", "cron": {"schedule": "0 0 31 2 *"}})
    assert found == [("/cron/schedule", "`0 0 31 2 *` never fires")]


def test_the_kind_value_must_be_a_mapping() -> None:
    assert problems_of({"name": "n", "kafka": "orders"}) == [
        ("/kafka", "must be a mapping, not a string")
    ]
    assert problems_of(["not", "a", "mapping"]) == [("", "must be a mapping, not a list")]


def test_dead_letter_keys_are_checked_per_kind() -> None:
    found = problems_of({"name": "n", "kafka": {"topic": "t"}, "deadLetter": {"subject": "x"}})
    assert found == [("/deadLetter/subject", "unknown key `subject`")]
    same = problems_of({"name": "n", "kafka": {"topic": "t"}, "deadLetter": {"topic": "t"}})
    assert same == [
        ("/deadLetter/topic", "the dead-letter topic cannot be the trigger's own topic")
    ]


def test_mqtt_dead_letter_topic_must_not_loop_back() -> None:
    found = problems_of({"name": "n", "mqtt": {"topic": "a/#"}, "deadLetter": {"topic": "a/dead"}})
    assert found == [("/deadLetter/topic", "`a/dead` matches `a/#`: it would loop back")]
    shared = {"name": "n", "mqtt": {"topic": "$share/g/a/#"}, "deadLetter": {"topic": "a/dead"}}
    assert problems_of(shared)[0][0] == "/deadLetter/topic"


def test_rabbitmq_routing_key_needs_an_exchange() -> None:
    assert problems_of({"name": "n", "rabbitmq": {"routingKey": "a.b"}}) == [
        ("/rabbitmq/routingKey", "`routingKey` needs an `exchange` to bind to")
    ]


def test_durations_accept_the_dsl_object_form() -> None:
    config = config_of({"name": "n", "redis": {"stream": "s", "claimIdle": {"seconds": 30}}})
    assert config.source.claim_idle == 30.0


def test_load_trigger_raises_with_all_problems() -> None:
    with pytest.raises(TriggerConfigError) as caught:
        load_trigger({"name": "n", "nats": {}})
    assert caught.value.problems == (Problem("/nats", "missing required key `subject`"),)


def test_parse_triggers_prefixes_pointers_and_checks_unique_names() -> None:
    configs, problems = parse_triggers(
        [
            {"name": "a", "cron": {"every": "PT1M"}},
            {"name": "a", "http": {"path": "/hooks/a", "public": True}},
            {"name": "b", "nats": {}},
        ]
    )
    assert [c.name for c in configs] == ["a", "a"]
    assert [(p.pointer, p.message) for p in problems] == [
        ("/1/name", "trigger name `a` is already used by /0"),
        ("/2/nats", "missing required key `subject`"),
    ]


def test_broker_names_belong_to_the_app_and_the_trigger() -> None:
    def names(app: str, trigger: str) -> tuple[str, ...]:
        items = [
            {"name": trigger, "nats": {"subject": "a"}},
            {"name": trigger, "rabbitmq": {}},
            {"name": trigger, "redis": {"stream": "s"}},
            {"name": trigger, "mqtt": {"topic": "a/#"}},
            {"name": trigger, "kafka": {"topic": "t"}},
            {"name": trigger, "rocketmq": {"topic": "t"}},
        ]
        nats, rabbit, redis, mqtt, kafka, rocket = (
            load_trigger(item, app=app).source for item in items
        )
        return (
            nats.stream, nats.durable, nats.dead_letter_stream, rabbit.queue,
            rabbit.dead_letter_queue, redis.group, redis.dead_letter_stream, mqtt.client_id,
            mqtt.dead_letter_topic, kafka.group, kafka.dead_letter_topic, rocket.group,
            rocket.dead_letter_topic,
        )  # fmt: skip

    shop = names("shop", "orders")
    assert shop[:6] == (
        "FLOWAPP_SHOP_ORDERS",
        "flowapp-shop_orders",
        "FLOWAPP_SHOP_ORDERS_DEAD_LETTER",
        "flowapp.shop.orders",
        "flowapp.dead-letter.shop.orders",
        "flowapp-shop:orders",
    )
    others = [names("billing", "orders"), names("a-b", "c"), names("a", "b-c")]
    for other in [shop, *others]:
        assert all(set(other).isdisjoint(o) for o in [shop, *others] if o is not other)
