"""Which kinds of ``run`` process (shell, script, container) an app may start.

The platform allows some kinds to every app (``allow_run``: none on ``flowapp up`` unless
``--allow-run``, all on ``flowapp dev``); an admin allows more to one app (``PUT
/api/v1/apps/{name}/run-policy``, stored with the app). Checked three times: a validation
reports the tasks that would be refused, a deploy is refused (403, a problem per task),
and each process is checked as it starts (``allowed_runs``, for the runtime), so revoking
a kind stops a serving revision's next process too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from flowapp.apps import FlowApp
from flowapp.apps.runs import PROCESS_KINDS, disabled_runs
from flowapp.local.app_records import require_app
from flowapp.server import platform as p
from flowapp.store.platform.port import AppStore
from flowapp.store.platform.records import InvalidValue


class RunPolicies:
    def __init__(
        self, store: AppStore, *, allow_run: Iterable[str], clock: Callable[[], float]
    ) -> None:
        self.store = store
        self.allow_run = frozenset(allow_run)
        self.clock = clock

    async def allowed_runs(self, app: str | None) -> frozenset[str]:
        """The kinds of process ``app`` may start now (the platform's for no app)."""
        record = await asyncio.to_thread(self.store.get_app, app) if app else None
        return self.allow_run | frozenset(record.allowed_runs if record else ())

    async def get_run_policy(self, name: str) -> p.RunPolicyView:
        record = await require_app(self.store, name)
        return self._view(name, record.allowed_runs)

    async def set_run_policy(self, name: str, allowed: list[str]) -> p.RunPolicyView:
        await require_app(self.store, name)
        try:
            record = await asyncio.to_thread(
                lambda: self.store.set_allowed_runs(name, allowed, now=self.clock())
            )
        except InvalidValue as exc:
            raise p.PlatformError(str(exc)) from None
        return self._view(name, record.allowed_runs)

    async def check_runs(self, app: FlowApp) -> None:
        """``RunNotAllowed`` if the app's workflow starts a process it may not."""
        problems = disabled_runs(app, await self.allowed_runs(app.name))
        if problems:
            kinds = sorted({problem.pointer.rsplit("/", 1)[-1] for problem in problems})
            detail = f"{app.name} uses run: {', '.join(kinds)}, which it is not allowed"
            raise p.RunNotAllowed(detail, problems=problems)

    def _view(self, name: str, allowed: tuple[str, ...]) -> p.RunPolicyView:
        platform = tuple(kind for kind in PROCESS_KINDS if kind in self.allow_run)
        return p.RunPolicyView(name, allowed, platform)
