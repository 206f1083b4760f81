"""The triggers an engine replica runs itself, and how N replicas start one execution.

On a cluster the FlowApp operator turns some triggers into Knative sources (their
events arrive through the Broker, ``deliveries.py``); the engine runs the rest, in every
replica, as ``flowapp up`` does on one machine. What keeps N replicas from starting N
executions, by kind:

- ``rabbitmq``, ``nats``, ``rocketmq``, ``kafka``, ``redis``: the replicas share one
  queue, durable consumer, consumer group or stream group (the names come from the app
  and the trigger, not from the replica), so the broker hands each message to one of
  them: competing consumers;
- ``http``: a request reaches one replica (the engine's Service balances them);
- ``cron`` with ``every`` and the workflow's ``schedule.cron`` / ``schedule.every``: every
  replica fires at the same instants (``every`` counts from the Unix epoch) with the same
  event id, and the execution's dedupe key (app, trigger, event source and id) is unique
  in the database: the first replica creates the execution, the others find it;
- ``mqtt``: leader election (``elected.py``): an MQTT session belongs to one client id,
  so one replica at a time holds it.

Every execution a trigger starts carries that dedupe key, so a message delivered twice
(a redelivery, or the short overlap of two leaders) still starts one execution.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from flowapp.apps.model import FlowApp
from flowapp.cluster.elected import ElectedTrigger
from flowapp.cluster.leader import Leases
from flowapp.local.triggers import (
    AppCronState,
    Starter,
    schedule_triggers,
    stop_triggers,
    trigger_sink,
)
from flowapp.triggers.base import Trigger, TriggerConfig, TriggerStatus
from flowapp.triggers.cron_trigger import CronState
from flowapp.triggers.registry import build_trigger
from flowapp.triggers.webhook_trigger import WebhookTrigger

log = logging.getLogger(__name__)
ELECTED_KINDS = frozenset({"mqtt"})


def engine_run(app: FlowApp, knative_sources: Collection[str]) -> list[TriggerConfig]:
    """The triggers this engine runs: the app's, but those Knative delivers, and the
    workflow's own schedule."""
    own = [t for t in app.triggers if t.name not in knative_sources]
    return [*own, *schedule_triggers(app)]


class ClusterTriggers:
    def __init__(
        self,
        app: FlowApp,
        start: Starter,
        *,
        knative_sources: Collection[str],
        leases: Leases,
        cron_state: CronState,
    ) -> None:
        self.app = app
        self.start_execution = start
        self.knative_sources = frozenset(knative_sources)
        self.leases = leases
        self.cron_state = cron_state
        self.triggers: dict[str, Trigger] = {}
        self.started: dict[str, str] = {}  # a webhook's answer names its execution

    async def start(self) -> None:
        for config in engine_run(self.app, self.knative_sources):
            trigger = self._build(config)
            await trigger.start(
                trigger_sink(self.app.name, config, self.start_execution, self.started)
            )
            self.triggers[config.name] = trigger

    async def stop(self) -> None:
        await stop_triggers(self.triggers)

    def _build(self, config: TriggerConfig) -> Trigger:
        def make() -> Trigger:
            return build_trigger(config, cron_state=AppCronState(self.cron_state, self.app.name))

        if config.kind not in ELECTED_KINDS:
            return make()
        lease = self.leases.lease(f"trigger/{self.app.name}/{config.name}")
        return ElectedTrigger(config.name, make, lease)

    def webhooks(self) -> dict[str, WebhookTrigger]:
        return {t.webhook.path: t for t in self.triggers.values() if isinstance(t, WebhookTrigger)}

    def status(self) -> dict[str, TriggerStatus]:
        return {name: trigger.status() for name, trigger in self.triggers.items()}
