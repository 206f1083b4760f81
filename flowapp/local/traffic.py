"""An app's traffic changed by hand: split between ready revisions (canary), or rolled
back to the revision before the current one.

The store's splits change first, then this process's copy (``Serving``); a revision
given a share is started before, so that it can take executions at once. When the
serving revision changes, the app's triggers restart with its resource.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from flowapp.local.app_records import require_app
from flowapp.local.hosts import RevisionHosts
from flowapp.local.serving import Serving
from flowapp.local.trigger_set import TriggerSet
from flowapp.server import platform as p
from flowapp.store.platform.port import AppStore


@dataclass(eq=False)
class Traffic:
    store: AppStore
    hosts: RevisionHosts
    serving: Serving
    triggers: TriggerSet

    async def set_traffic(self, name: str, splits: list[tuple[str, int]]) -> list[tuple[str, int]]:
        await require_app(self.store, name)
        for revision_id, percent in splits:
            record = await asyncio.to_thread(self.store.get_revision, revision_id)
            if record is None or record.app != name:  # the body is wrong, not the URL
                raise p.PlatformError(f"app {name} has no revision {revision_id}")
            if record.status != "ready" and percent > 0:
                raise p.Conflict(f"revision {revision_id} is {record.status}, not ready")
            if percent > 0:
                await self.hosts.host(name, revision_id)
        try:
            result = await asyncio.to_thread(self.store.set_traffic, name, splits)
        except ValueError as exc:
            raise p.PlatformError(str(exc)) from None
        shares = [(split[0], split[1]) for split in result]
        leading = self.serving.primary(name)
        self.serving.set_traffic(name, shares)
        if self.serving.primary(name) != leading:  # triggers run with the leader's resource
            await self.triggers.restart(name)
        return shares

    async def rollback(self, name: str) -> list[tuple[str, int]]:
        """All traffic to the newest ready revision before the one with the largest
        share (a canary split is undone too, to the revision before its leader)."""
        await require_app(self.store, name)
        # The store's splits: another process sharing it may have changed them.
        await asyncio.to_thread(self.serving.refresh, self.store, name)
        current = self.serving.primary(name)
        revisions = await asyncio.to_thread(self.store.list_revisions, name)  # newest first
        numbers = {r.id: r.number for r in revisions}
        before = numbers.get(current) if current is not None else None
        candidates = [
            r
            for r in revisions
            if r.status == "ready" and r.id != current and (before is None or r.number < before)
        ]
        if not candidates:
            raise p.Conflict(f"app {name} has no earlier ready revision to roll back to")
        return await self.set_traffic(name, [(candidates[0].id, 100)])
