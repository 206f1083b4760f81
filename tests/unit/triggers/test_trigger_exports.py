"""The public surface of ``flowapp.triggers`` is pinned: changing it is a deliberate act."""

from __future__ import annotations

import flowapp.triggers


def test_exported_members() -> None:
    assert sorted(flowapp.triggers.__all__) == [
        "Backoff",
        "Clock",
        "CronState",
        "DeadLetter",
        "DeadLetterError",
        "Event",
        "EventMappingError",
        "HttpRequest",
        "Incoming",
        "KINDS",
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
    for name in flowapp.triggers.__all__:
        assert getattr(flowapp.triggers, name) is not None


def test_every_error_has_one_root() -> None:
    errors = [
        flowapp.triggers.DeadLetterError,
        flowapp.triggers.EventMappingError,
        flowapp.triggers.TriggerConfigError,
        flowapp.triggers.TriggerConnectionError,
        flowapp.triggers.WebhookError,
    ]
    assert all(issubclass(e, flowapp.triggers.TriggerError) for e in errors)
    assert flowapp.triggers.TriggerConnectionError.retryable
    assert not flowapp.triggers.TriggerConfigError.retryable
