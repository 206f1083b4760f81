"""The triggers of one app, started and stopped with it, and its workflow's ``schedule``.

Each trigger's sink starts an execution durably (deduplicated by the message's id) before
the trigger acknowledges the message. The workflow's own ``schedule.cron`` / ``every``
become cron triggers; ``schedule.on`` becomes a subscription to the event bus (each
matching event starts an execution whose input is ``[event]``, as the spec says);
``schedule.after`` restarts the workflow that long after each execution completes.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from flowapp.apps.model import FlowApp
from flowapp.dsl.durations import duration_seconds, format_iso_duration
from flowapp.triggers.base import Trigger, TriggerConfig, TriggerState, TriggerStatus
from flowapp.triggers.config import load_trigger
from flowapp.triggers.cron_trigger import CronState, MemoryCronState
from flowapp.triggers.metrics import UNOBSERVED, TriggerMetrics, TriggerObserver, event_lag
from flowapp.triggers.registry import build_trigger
from flowapp.triggers.webhook_trigger import WebhookTrigger

log = logging.getLogger(__name__)
Starter = Callable[[Any, str | None], Awaitable[str]]


class FileCronState:
    """Cron triggers' last handled instants in a JSON file, so catch-up works after a
    restart. Written atomically (temp file + rename); tiny and rarely written."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, str]:
        try:
            return dict(json.loads(self.path.read_text()))
        except (OSError, ValueError):
            return {}

    async def load(self, trigger: str) -> datetime | None:
        value = self._read().get(trigger)
        return datetime.fromisoformat(value) if value else None

    async def save(self, trigger: str, instant: datetime) -> None:
        data = self._read()
        data[trigger] = instant.isoformat()
        self._write(data)

    async def forget(self, prefix: str) -> None:
        """Drop the instants of every trigger whose key starts with ``prefix`` (an app's
        ``"<app>/"``, when the app is deleted)."""
        data = self._read()
        kept = {key: value for key, value in data.items() if not key.startswith(prefix)}
        if kept != data:
            self._write(kept)

    def _write(self, data: dict[str, str]) -> None:
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data))
        temporary.replace(self.path)


def execution_input(config: TriggerConfig, event: dict[str, Any]) -> Any:
    """The event's data, or the whole event with ``read: envelope``."""
    if config.read == "envelope":
        return event
    if "data_base64" in event:
        return event["data_base64"]
    return event.get("data")


def trigger_key(app: str, trigger: str, event: dict[str, Any]) -> str:
    """The dedupe key of the execution a trigger starts for an event: one per message."""
    return f"{app}/{trigger}/{event.get('source', '')}/{event['id']}"


def schedule_triggers(app: FlowApp) -> list[TriggerConfig]:
    """Cron triggers for the workflow's ``schedule.cron`` and ``schedule.every``."""
    schedule = app.workflow.get("schedule") or {}
    items = []
    if "cron" in schedule:
        items.append({"name": "schedule-cron", "cron": {"schedule": schedule["cron"]}})
    if "every" in schedule:
        every = format_iso_duration(duration_seconds(schedule["every"]))
        items.append({"name": "schedule-every", "cron": {"every": every}})
    return [load_trigger(item) for item in items]


Sink = Callable[[dict[str, Any]], Awaitable[None]]
STARTED_KEPT = 1000  # the most recent webhook executions a trigger set can still name


def trigger_sink(
    app: str,
    config: TriggerConfig,
    start: Starter,
    started: dict[str, str],
    observer: TriggerObserver = UNOBSERVED,
) -> Sink:
    """What a trigger hands each event to: the execution is started (deduplicated by the
    event's id) before the trigger acknowledges the event. An ``http`` trigger's
    execution is kept in ``started`` by its key, for the webhook's answer to name it."""

    async def sink(event: dict[str, Any]) -> None:
        key = trigger_key(app, config.name, event)
        execution_id = await start(execution_input(config, event), key)
        observer.accepted(event_lag(event, time.time()))
        if config.kind == "http":
            started[key] = execution_id
            while len(started) > STARTED_KEPT:
                started.pop(next(iter(started)))

    return sink


async def stop_triggers(triggers: dict[str, Trigger]) -> None:
    """Stop every trigger (each drains its deliveries in flight for up to 5 s; one that
    fails to stop does not keep the others running), then forget them."""
    for trigger in triggers.values():
        with contextlib.suppress(Exception):
            await trigger.stop(drain_timeout=5.0)
    triggers.clear()


class AppTriggers:
    def __init__(
        self,
        app: FlowApp,
        start: Starter,
        *,
        cron_state: CronState | None = None,
        refused: dict[str, str] | None = None,
        metrics: TriggerMetrics | None = None,
    ) -> None:
        """``refused``: triggers not to start, ``name -> why`` (a webhook path another
        app holds), reported as stopped with the reason. ``metrics``: where to count
        what the triggers deliver."""
        self.app = app
        self.metrics = metrics
        self.refused = dict(refused or {})
        self.start_execution = start
        self.cron_state = cron_state or MemoryCronState()
        self.triggers: dict[str, Trigger] = {}
        self.configs: dict[str, TriggerConfig] = {}
        self.started: dict[str, str] = {}

    async def start(self) -> None:
        for config in [*self.app.triggers, *schedule_triggers(self.app)]:
            if config.name in self.refused:
                continue
            observer = self._observer(config.name)
            trigger = build_trigger(
                config, cron_state=AppCronState(self.cron_state, self.app.name), observer=observer
            )
            self.configs[config.name] = config
            sink = trigger_sink(self.app.name, config, self.start_execution, self.started, observer)
            await trigger.start(sink)
            self.triggers[config.name] = trigger

    async def stop(self) -> None:
        await stop_triggers(self.triggers)

    def _observer(self, trigger: str) -> TriggerObserver:
        if self.metrics is None:
            return UNOBSERVED
        return self.metrics.observer(self.app.name, trigger)

    def webhooks(self) -> dict[str, WebhookTrigger]:
        return {t.webhook.path: t for t in self.triggers.values() if isinstance(t, WebhookTrigger)}

    def status(self) -> dict[str, TriggerStatus]:
        refused = {n: TriggerStatus(TriggerState.STOPPED, why) for n, why in self.refused.items()}
        return refused | {name: trigger.status() for name, trigger in self.triggers.items()}


class AppCronState:
    """Cron state per app: trigger names are only unique within an app."""

    def __init__(self, state: CronState, app: str) -> None:
        self.state = state
        self.app = app

    async def load(self, trigger: str) -> datetime | None:
        return await self.state.load(f"{self.app}/{trigger}")

    async def save(self, trigger: str, instant: datetime) -> None:
        await self.state.save(f"{self.app}/{trigger}", instant)
