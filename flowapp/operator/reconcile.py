"""Reconciling one FlowApp: make its children what ``render`` says, then report status.

    FlowApp object ──load_resource_data──> FlowApp ──render──> desired objects (+ owner ref)
    list children (label flowapp.dev/app) ──> create missing, replace drifted, delete extra
    children's own conditions ──status.conditions_for──> FlowApp status (only if changed)

Level-triggered and idempotent: every call converges on the same objects from whatever the
cluster holds, and a call that finds nothing to do writes nothing (an object counts as
drifted only when a desired field differs, so fields the API server or Knative's webhooks
default never cause a write). Calls for one app are serialized; calls asked for while one
runs (a burst of child events) are coalesced into one more.

Outcomes: an invalid spec (``InvalidSpec``) or a function without image (``MissingImage``)
changes no object; a missing database Secret or an object the API refuses is reported in
the conditions and raised as :class:`RetryLater`, which the handlers turn into kopf's
retry with back-off.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from flowapp.apps.loader import load_resource_data
from flowapp.dsl.problems import DefinitionError
from flowapp.operator import names
from flowapp.operator.client import ApiError, Client
from flowapp.operator.engine import api_url
from flowapp.operator.metrics import OperatorMetrics
from flowapp.operator.objects import (
    API_VERSION,
    CHILD_KINDS,
    as_resource,
    declared_images,
    identity,
    is_subset,
    replacement,
    written_key,
)
from flowapp.operator.render import MissingImages, Rendering, render
from flowapp.operator.status import Condition, conditions_for, failed, with_transitions
from flowapp.operator.target import BROKER_ANNOTATION, MODE_ANNOTATION, Target

log = logging.getLogger("flowapp.operator")
Obj = dict[str, Any]


class RetryLater(Exception):
    """The app is partly realised; try again after a back-off."""


@dataclass
class Outcome:
    result: str  # ok, invalid, retry
    created: int = 0
    updated: int = 0
    deleted: int = 0
    problems: list[str] = field(default_factory=list)


EventPoster = Callable[[Obj, str, str, bool], None]


class Reconciler:
    def __init__(
        self,
        client: Client,
        target: Target,
        metrics: OperatorMetrics,
        *,
        post_event: EventPoster | None = None,
        settle: float = 0.1,
    ) -> None:
        self.client = client
        # A requested reconcile waits this long first, so that a burst of child events
        # (Knative marking an app's objects ready one by one) costs one pass, not many.
        self.settle = settle
        self.target = target
        self.metrics = metrics
        self.post_event = post_event or (lambda body, reason, message, warning: None)
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        # The resourceVersion of each object as this operator last wrote it: the watch
        # event of one's own write is no news, and reconciling for it would be wasted.
        self._written: dict[tuple[str, str, str, str], str] = {}
        self._deleted: set[tuple[str, str, str, str]] = set()
        self._again: dict[tuple[str, str], bool] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # --- entry points --------------------------------------------------------------------

    async def reconcile(self, body: Obj) -> Outcome:
        key = (body["metadata"]["namespace"], body["metadata"]["name"])
        async with self._locks.setdefault(key, asyncio.Lock()):
            fresh = await self.client.get(API_VERSION, "FlowApp", *key)
            if fresh is None or fresh["metadata"].get("deletionTimestamp"):
                return Outcome("gone")
            return await self._timed(fresh)

    def child_changed(self, obj: Obj, deleted: bool = False) -> None:
        """A child's watch event: reconcile its app, unless the event is our own write."""
        meta = obj["metadata"]
        app = (meta.get("labels") or {}).get(names.APP_LABEL)
        if not app:
            return
        key = written_key(obj)
        if deleted:  # its last version is often ours: only our own deletions are no news
            self._written.pop(key, None)
            mine = key in self._deleted
            self._deleted.discard(key)
        else:
            mine = self._written.get(key) == meta.get("resourceVersion")
        if not mine:
            self.request(meta["namespace"], app)

    async def close(self) -> None:
        """Stop pending reconciles, then close the client."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.client.close()

    def request(self, namespace: str, name: str) -> None:
        """Reconcile soon (a child changed); requests while one runs coalesce into one."""
        key = (namespace, name)
        if key in self._again:
            self._again[key] = True
            return
        self._again[key] = False
        task = asyncio.create_task(self._requested(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _requested(self, key: tuple[str, str]) -> None:
        try:
            while True:
                await asyncio.sleep(self.settle)
                self._again[key] = False
                stub = {"metadata": {"namespace": key[0], "name": key[1]}}
                try:
                    await self.reconcile(stub)
                except RetryLater:
                    pass  # reported in the status; kopf's handler retries with back-off
                except Exception:
                    log.exception("reconciling %s/%s failed", *key)
                if not self._again.get(key):
                    return
                self._again[key] = False
        finally:
            self._again.pop(key, None)

    async def _timed(self, body: Obj) -> Outcome:
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            outcome = await self._reconcile(body)
        except RetryLater:
            self.metrics.reconciled("retry", loop.time() - started)
            raise
        except Exception:
            self.metrics.reconciled("error", loop.time() - started)
            raise
        self.metrics.reconciled(outcome.result, loop.time() - started)
        return outcome

    # --- one pass ------------------------------------------------------------------------

    async def _reconcile(self, body: Obj) -> Outcome:
        meta = body["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        try:
            app = load_resource_data(as_resource(body), file=f"{namespace}/{name}")
            target = self._target(body)
            rendering = render(app, target, declared_images(body))
        except DefinitionError as error:
            message = "; ".join(f"{p.pointer or '/'}: {p.message}" for p in error.problems)
            await self._report(body, failed("InvalidSpec", message))
            self.post_event(body, "InvalidSpec", message, True)
            self.metrics.error("InvalidSpec")
            return Outcome("invalid", problems=[message])
        except MissingImages as error:
            await self._report(body, failed("MissingImage", str(error)))
            self.post_event(body, "MissingImage", str(error), True)
            self.metrics.error("MissingImage")
            return Outcome("invalid", problems=[str(error)])
        except ValueError as error:  # a forced Flows mode the app does not fit
            await self._report(body, failed("InvalidSpec", str(error)))
            self.metrics.error("InvalidSpec")
            return Outcome("invalid", problems=[str(error)])
        outcome, children = await self._apply(body, rendering)
        engine_problem = (
            await self._engine_problem(rendering) if rendering.mode == "engine" else None
        )
        conditions = conditions_for(children, mode=rendering.mode, engine_problem=engine_problem)
        if outcome.problems:
            message = "; ".join(outcome.problems)
            conditions = [
                Condition("Ready", "False", "ApplyFailed", message[:1000]),
                *conditions[1:],
            ]
        extra = {
            "url": api_url(name, namespace) if rendering.mode == "engine" else "",
            "mode": rendering.mode,
            "revision": app.digest.removeprefix("sha256:")[:12],
        }
        await self._report(body, conditions, extra)
        changes = outcome.created + outcome.updated + outcome.deleted
        if changes:
            message = (
                f"created {outcome.created}, updated {outcome.updated}, "
                f"deleted {outcome.deleted} objects"
            )
            self.post_event(body, "Applied", message, False)
        if outcome.problems or engine_problem is not None:
            reason = "ApplyFailed" if outcome.problems else engine_problem.reason  # type: ignore[union-attr]
            self.metrics.error(reason)
            raise RetryLater(conditions[0].message)
        return outcome

    def _target(self, body: Obj) -> Target:
        annotations = body["metadata"].get("annotations") or {}
        mode = annotations.get(MODE_ANNOTATION, self.target.mode)
        if mode not in ("auto", "engine", "flows"):
            mode = self.target.mode
        return replace(
            self.target,
            namespace=body["metadata"]["namespace"],
            mode=mode,
            broker=annotations.get(BROKER_ANNOTATION, self.target.broker),
        )

    async def _apply(self, body: Obj, rendering: Rendering) -> tuple[Outcome, list[Obj]]:
        namespace, name = body["metadata"]["namespace"], body["metadata"]["name"]
        owner = {
            "apiVersion": API_VERSION,
            "kind": "FlowApp",
            "name": name,
            "uid": body["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
        actual = {identity(obj): obj for obj in await self.children(namespace, name)}
        outcome = Outcome("ok")
        children = []
        for desired in rendering.objects:
            desired = copy.deepcopy(desired)
            desired["metadata"]["ownerReferences"] = [owner]
            current = actual.pop(identity(desired), None)
            try:
                children.append(await self._converge(desired, current, outcome))
            except ApiError as error:
                outcome.problems.append(
                    f"{desired['kind']} {desired['metadata']['name']}: {error.message}"
                )
        for extra in actual.values():
            self._deleted.add(written_key(extra))
            await self.client.delete(extra)
            outcome.deleted += 1
            self.metrics.applied("deleted")
        return outcome, children

    async def _converge(self, desired: Obj, current: Obj | None, outcome: Outcome) -> Obj:
        if current is None:
            outcome.created += 1
            self.metrics.applied("created")
            return self._wrote(await self.client.create(desired), desired)
        if is_subset(desired, current):
            return current
        body = replacement(desired, current)
        outcome.updated += 1
        self.metrics.applied("updated")
        return self._wrote(await self.client.replace(body), desired)

    def _wrote(self, written: Obj, desired: Obj) -> Obj:
        written = written | {"apiVersion": desired["apiVersion"], "kind": desired["kind"]}
        self._written[written_key(written)] = written["metadata"].get("resourceVersion", "")
        return written

    async def children(self, namespace: str, app: str) -> list[Obj]:
        selector = f"{names.APP_LABEL}={app},{names.MANAGED_BY}={names.OPERATOR}"
        found = await asyncio.gather(
            *(
                self.client.list(api_version, kind, namespace, selector)
                for api_version, kind in CHILD_KINDS
            )
        )
        return [
            obj
            | {"apiVersion": obj.get("apiVersion") or api_version, "kind": obj.get("kind") or kind}
            for (api_version, kind), items in zip(CHILD_KINDS, found, strict=True)
            for obj in items
        ]

    async def _engine_problem(self, rendering: Rendering) -> Condition | None:
        secret = await self.client.get(
            "v1", "Secret", rendering.namespace, self.target.database_secret
        )
        if secret is None:
            return Condition(
                "EngineReady",
                "False",
                "MissingSecret",
                f"Secret {self.target.database_secret} (key {self.target.database_key}) with the "
                f"engine's PostgreSQL URL is not in namespace {rendering.namespace}",
            )
        if self.target.database_key not in (secret.get("data") or {}) | (
            secret.get("stringData") or {}
        ):
            return Condition(
                "EngineReady",
                "False",
                "MissingSecret",
                f"Secret {self.target.database_secret} has no key {self.target.database_key}",
            )
        return None

    async def _report(
        self, body: Obj, conditions: list[Condition], extra: Obj | None = None
    ) -> None:
        """Patch the status, unless it would not change (then nothing is written)."""
        old = body.get("status") or {}
        generation = body["metadata"].get("generation", 1)
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        status = {
            "observedGeneration": generation,
            "conditions": with_transitions(
                conditions, old.get("conditions") or [], now=now, generation=generation
            ),
            **(
                extra
                or {
                    "url": "",
                    "mode": old.get("mode", "engine"),
                    "revision": old.get("revision", ""),
                }
            ),
        }
        if {k: old.get(k) for k in status} == status and len(old.get("conditions") or []) == len(
            status["conditions"]
        ):
            return
        # A merge patch replaces the list, dropping conditions no longer reported.
        await self.client.patch_status(
            API_VERSION, "FlowApp", body["metadata"]["namespace"], body["metadata"]["name"], status
        )

    async def cleanup(self, body: Obj, *, timeout: float = 60.0) -> None:
        """Delete every child and wait until none is left (the finalizer's work)."""
        namespace, name = body["metadata"]["namespace"], body["metadata"]["name"]
        for child in await self.children(namespace, name):
            self._deleted.add(written_key(child))
            await self.client.delete(child)
            self.metrics.applied("deleted")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while await self.children(namespace, name):
            if loop.time() > deadline:
                raise RetryLater(f"children of {namespace}/{name} are still being deleted")
            await asyncio.sleep(0.05)
