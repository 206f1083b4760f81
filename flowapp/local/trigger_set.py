"""What starts executions of each app on its own: its triggers, its workflow's
``schedule.on`` subscription and ``schedule.after`` chain, and the webhook paths it holds.

    deploy / traffic change --restart(app)--> AppTriggers + EventSchedule, with the
        serving revision's resource; webhook paths claimed (``webhooks.WebhookRoutes``)
    an execution of the app completed --finished(live)--> the next schedule.after start
    every start --start(app, input, key)--> the invoker (a revision chosen by traffic)
    a request to /hooks/... --handle_webhook--> the app holding the path, answered
        (``webhook_calls.py``)

Cron triggers keep their last handled instants in ``cron_state`` (a file in the data
folder), so catch-up works after a restart. Reads like a mapping of each app's running
``AppTriggers``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator, Mapping
from typing import Any

from flowapp.apps import FlowApp
from flowapp.events import Broker
from flowapp.local.hosts import RevisionHosts
from flowapp.local.schedules import AfterChains, EventSchedule, after_delay
from flowapp.local.triggers import AppTriggers, FileCronState
from flowapp.local.webhook_calls import WaitFor, answer_webhook
from flowapp.local.webhooks import WebhookRoutes
from flowapp.server import platform as p
from flowapp.triggers.metrics import TriggerMetrics

# Start an execution of the app (name, input, dedupe key) on a revision chosen by traffic.
StartForApp = Callable[[str, Any, str | None], Coroutine[Any, Any, str]]


class TriggerSet(Mapping[str, AppTriggers]):
    def __init__(
        self,
        *,
        start: StartForApp,
        hosts: RevisionHosts,
        cron_state: FileCronState,
        latest: Callable[[str], Any],
        wait_for: WaitFor,
        clock: Callable[[], float],
        broker: Broker | None = None,
        metrics: TriggerMetrics | None = None,
    ) -> None:
        """``latest(app)``: the app's newest execution (blocking), for ``schedule.after``
        after a restart; ``wait_for``: the runtime's, for webhooks' synchronous answers;
        ``hosts``: where the serving revision's resource comes from."""
        self.start = start
        self.wait_for = wait_for
        self.hosts = hosts
        self.cron_state = cron_state
        self.broker = broker
        self.metrics = metrics
        self.running: dict[str, AppTriggers] = {}
        self.event_schedules: dict[str, EventSchedule] = {}
        self.webhook_routes = WebhookRoutes()
        self.after_chains = AfterChains(
            delay_of=self._after_delay,
            start=lambda name, key: self.start(name, None, key),
            latest=latest,
            clock=clock,
        )
        if metrics is not None:
            metrics.watch(self.statuses)

    def __getitem__(self, name: str) -> AppTriggers:
        return self.running[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.running)

    def __len__(self) -> int:
        return len(self.running)

    async def restart(self, name: str, app: FlowApp | None = None) -> None:
        """Triggers belong to the app: restarted with ``app`` (by default the serving
        revision's resource; none when it does not run here)."""
        await self._stop_running(name)
        self.webhook_routes.release(name)
        if app is None:
            host = self.hosts.serving_host(name)
            if host is None:
                return
            app = host.app

        async def start(input: Any, key: str | None) -> str:
            return await self.start(name, input, key)

        hooks = {t.source.path: t.name for t in app.triggers if t.kind == "http"}
        refused = self.webhook_routes.claim(name, hooks)
        triggers = AppTriggers(
            app, start, cron_state=self.cron_state, refused=refused, metrics=self.metrics
        )
        await triggers.start()
        self.running[name] = triggers
        if self.broker is not None:
            schedule = EventSchedule(app, start, self.broker)
            await schedule.start()
            self.event_schedules[name] = schedule

    async def remove(self, name: str) -> None:
        """The app was deleted: its triggers, ``schedule.on`` subscription and pending
        ``schedule.after`` start stop, its paths are freed and its cron state goes."""
        await self._stop_running(name)
        self.after_chains.cancel(name)
        self.webhook_routes.release(name)
        await self.cron_state.forget(f"{name}/")

    async def _stop_running(self, name: str) -> None:
        previous = self.running.pop(name, None)
        if previous is not None:
            await previous.stop()
        schedule = self.event_schedules.pop(name, None)
        if schedule is not None:
            await schedule.stop()

    async def handle_webhook(self, request: p.WebhookRequest) -> p.WebhookResponse:
        """A request to the ``http`` trigger of the app that holds its path."""
        name = self.webhook_routes.owner(request.path)
        triggers = self.running.get(name) if name is not None else None
        trigger = triggers.webhooks().get(request.path) if triggers is not None else None
        if name is None or triggers is None or trigger is None:
            raise p.NotFound(f"no http trigger listens on {request.path}")
        return await answer_webhook(
            name, trigger, request, started=triggers.started, wait_for=self.wait_for
        )

    def finished(self, live: Any) -> None:
        """``schedule.after``: a completed execution starts the next one later."""
        name = live.workflow.app
        if name and live.state.status == "completed":
            self.after_chains.completed(name, live.id)

    async def resume_after(self, name: str) -> None:
        await self.after_chains.resume(name)

    def _after_delay(self, name: str) -> float | None:
        host = self.hosts.serving_host(name)
        return after_delay(host.app) if host is not None else None

    def statuses(self) -> dict[tuple[str, str], Any]:
        """Every running app's triggers and their status (read at each scrape)."""
        return {
            (app, name): status
            for app, triggers in list(self.running.items())
            for name, status in triggers.status().items()
        }

    async def stop(self) -> None:
        self.after_chains.stop()
        for triggers in self.running.values():
            await triggers.stop()
        for schedule in self.event_schedules.values():
            await schedule.stop()
