"""The ``http`` trigger object the API server mounts at ``WebhookConfig.path``.

The server reads the request, calls :meth:`WebhookTrigger.handle` and answers: the event
id with 202 (``mode: async``) once the sink returned, or a ``WebhookError`` as an RFC 7807
problem. Secrets named by ``env`` are read from the environment here, at the edge, and
passed to the pure verification in ``webhook.py``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from flowapp.triggers.base import Event, Sink, TriggerConfig, TriggerState, TriggerStatus
from flowapp.triggers.errors import WebhookError
from flowapp.triggers.webhook import (
    HttpRequest,
    WebhookConfig,
    request_to_event,
    resolve_secret,
    verify_signature,
)


class WebhookTrigger:
    """Ready between start() and stop(); it has no connection of its own."""

    def __init__(self, config: TriggerConfig, *, environ: Mapping[str, str] | None = None) -> None:
        self._config = config
        self._hook: WebhookConfig = config.source
        self._environ = os.environ if environ is None else environ
        self._sink: Sink | None = None

    @property
    def name(self) -> str:
        return self._config.name

    @property
    def webhook(self) -> WebhookConfig:
        return self._hook

    def status(self) -> TriggerStatus:
        state = TriggerState.READY if self._sink is not None else TriggerState.STOPPED
        return TriggerStatus(state)

    async def start(self, sink: Sink) -> None:
        self._sink = sink

    async def stop(self, *, drain_timeout: float = 30.0) -> None:
        del drain_timeout  # in-flight requests belong to the server, which drains them
        self._sink = None

    async def handle(self, request: HttpRequest) -> Event:
        """Verify, map and deliver one request; the event given to the sink is returned."""
        if self._sink is None:
            raise WebhookError(503, "Service Unavailable", f"trigger {self.name} is stopped")
        if self._hook.secret is not None:
            key = resolve_secret(self._hook.secret, self._environ)
            verify_signature(self._hook.secret, request, key=key)
        event = request_to_event(self._config, request)
        await self._sink(event)
        return event
