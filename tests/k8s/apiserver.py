"""An in-memory Kubernetes API server on 127.0.0.1, for the operator's tests and bench.

It speaks the REST API that kopf and the operator's client use: discovery (``/api``,
``/apis``, ``/apis/<group>/<version>``), list (with label selectors), watch streams (from
any ``resourceVersion``, with ``timeoutSeconds``), get, create, replace, merge and JSON
patch, delete, and the ``status`` subresource; ``store.py`` enforces what the real server
enforces. Start it with :func:`serving` (an async context manager giving its URL) and
install CRDs with :meth:`ApiServer.install_crd`.

kmock (PyPI) was tried first: its emulator merges JSON bodies as given, with no schema,
pruning, generation, resourceVersion, status subresource or garbage collection, which is
exactly what these tests need to hold the operator to; so this is a small server of ours.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import jsonpatch
from aiohttp import web

from tests.k8s.resources import Obj, ResourceType
from tests.k8s.store import ApiError, Change, Store, matches, parse_selector


class ApiServer:
    def __init__(self) -> None:
        self.store = Store()
        self.app = web.Application()
        self.app.router.add_get("/version", self._version)
        self.app.router.add_get("/api", self._api)
        self.app.router.add_get("/apis", self._apis)
        self.app.router.add_route("*", "/api/{version}{rest:.*}", self._core)
        self.app.router.add_route("*", "/apis/{group}/{version}{rest:.*}", self._grouped)

    def install_crd(self, crd: Obj) -> None:
        self.store.create(
            self.store.find_type("apiextensions.k8s.io", "v1", "customresourcedefinitions"),
            "v1",
            None,
            crd,
            strict=False,
        )

    # --- discovery --------------------------------------------------------------------------

    async def _version(self, request: web.Request) -> web.Response:
        return web.json_response({"major": "1", "minor": "33", "gitVersion": "v1.33.0"})

    async def _api(self, request: web.Request) -> web.Response:
        return web.json_response({"kind": "APIVersions", "versions": ["v1"]})

    async def _apis(self, request: web.Request) -> web.Response:
        groups: dict[str, list[str]] = {}
        for kind in self.store.types:
            if kind.group:
                versions = groups.setdefault(kind.group, [])
                versions += [v for v in kind.versions if v not in versions]
        return web.json_response(
            {
                "kind": "APIGroupList",
                "apiVersion": "v1",
                "groups": [
                    {
                        "name": group,
                        "versions": [
                            {"groupVersion": f"{group}/{v}", "version": v} for v in versions
                        ],
                        "preferredVersion": {
                            "groupVersion": f"{group}/{versions[0]}",
                            "version": versions[0],
                        },
                    }
                    for group, versions in groups.items()
                ],
            }
        )

    def _resource_list(self, group: str, version: str) -> web.Response:
        resources = []
        for kind in self.store.types:
            if kind.group == group and version in kind.versions:
                entry = {
                    "name": kind.plural,
                    "singularName": kind.kind.lower(),
                    "namespaced": kind.namespaced,
                    "kind": kind.kind,
                    "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
                }
                resources.append(entry)
                if kind.status_subresource:
                    resources.append(
                        entry
                        | {"name": f"{kind.plural}/status", "verbs": ["get", "patch", "update"]}
                    )
        if not resources:
            raise web.HTTPNotFound()
        group_version = f"{group}/{version}" if group else version
        return web.json_response(
            {"kind": "APIResourceList", "groupVersion": group_version, "resources": resources}
        )

    # --- resources ----------------------------------------------------------------------------

    async def _core(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(
            request, "", request.match_info["version"], request.match_info["rest"]
        )

    async def _grouped(self, request: web.Request) -> web.StreamResponse:
        info = request.match_info
        return await self._serve(request, info["group"], info["version"], info["rest"])

    async def _serve(
        self, request: web.Request, group: str, version: str, rest: str
    ) -> web.StreamResponse:
        self.store.requests += 1
        parts = [p for p in rest.split("/") if p]
        if not parts:
            return self._resource_list(group, version)
        namespace = None
        if parts[0] == "namespaces" and len(parts) >= 3:
            namespace, parts = parts[1], parts[2:]
        try:
            kind = self.store.find_type(group, version, parts[0])
            name = parts[1] if len(parts) > 1 else None
            status = len(parts) > 2 and parts[2] == "status"
            return await self._act(request, kind, version, namespace, name, status=status)
        except ApiError as error:
            return web.json_response(error.body(), status=error.status)

    async def _act(
        self,
        request: web.Request,
        kind: ResourceType,
        version: str,
        namespace: str | None,
        name: str | None,
        *,
        status: bool,
    ) -> web.StreamResponse:
        method, query = request.method, request.query
        strict = query.get("fieldValidation") == "Strict"
        if name is None and method == "GET":
            if query.get("watch") in ("true", "1"):
                return await self._watch(request, kind, version, namespace)
            items = [
                self._shown(obj, version)
                for obj in self.store.list(kind, namespace, query.get("labelSelector", ""))
            ]
            meta = {"resourceVersion": str(self.store.version)}
            return web.json_response(
                {
                    "apiVersion": kind.api_version(version),
                    "kind": f"{kind.kind}List",
                    "metadata": meta,
                    "items": items,
                }
            )
        if name is None and method == "POST":
            body = await request.json()
            obj = self.store.create(kind, version, namespace, body, strict=strict)
            return web.json_response(self._shown(obj, version), status=201)
        if name is None:
            raise ApiError(405, "MethodNotAllowed", f"{method} on a collection")
        if method == "GET":
            return web.json_response(self._shown(self.store.get(kind, namespace, name), version))
        if method == "DELETE":
            obj = self.store.delete(kind, namespace, name)
            return web.json_response(self._shown(obj, version))
        body = await request.json()
        # No await between reading and writing: one request's update is atomic.
        current = self.store.get(kind, namespace, name)
        if method == "PATCH":
            body = _patched(current, body, request.content_type)
        elif method != "PUT":
            raise ApiError(405, "MethodNotAllowed", method)
        obj = self.store.update(kind, version, namespace, name, body, status=status, strict=strict)
        return web.json_response(self._shown(obj, version))

    def _shown(self, obj: Obj, version: str) -> Obj:
        return obj | {
            "apiVersion": obj["apiVersion"].rsplit("/", 1)[0] + "/" + version
            if "/" in obj["apiVersion"]
            else version
        }

    async def _watch(
        self, request: web.Request, kind: ResourceType, version: str, namespace: str | None
    ) -> web.StreamResponse:
        query = request.query
        wanted = parse_selector(query.get("labelSelector", ""))
        since = int(query.get("resourceVersion") or 0)
        timeout = float(query.get("timeoutSeconds") or 300)
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        if since == 0:  # the current state first, as ADDED events, then what follows it
            position = len(self.store.history)
            current = [obj for obj in self.store.list(kind, namespace) if matches(obj, wanted)]
            for obj in current:
                await _send(response, "ADDED", self._shown(obj, version))
        else:
            position = next(
                (i for i, c in enumerate(self.store.history) if c.version > since),
                len(self.store.history),
            )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while loop.time() < deadline:
                while position < len(self.store.history):
                    change: Change = self.store.history[position]
                    position += 1
                    if _concerns(change, kind, namespace, wanted):
                        await _send(response, change.type, self._shown(change.obj, version))
                changed = self.store.changed  # taken before looking, so no change is missed
                if position >= len(self.store.history):
                    with contextlib.suppress(TimeoutError):
                        wait = max(0.0, min(5.0, deadline - loop.time()))
                        await asyncio.wait_for(changed.wait(), wait)
        except (ConnectionResetError, asyncio.CancelledError):
            return response
        with contextlib.suppress(ConnectionResetError):
            await response.write_eof()
        return response


def _concerns(
    change: Change, kind: ResourceType, namespace: str | None, wanted: dict[str, str | None]
) -> bool:
    return (
        (change.resource.group, change.resource.plural) == (kind.group, kind.plural)
        and (namespace is None or change.obj["metadata"].get("namespace") == namespace)
        and matches(change.obj, wanted)
    )


async def _send(response: web.StreamResponse, type_: str, obj: Obj) -> None:
    await response.write(json.dumps({"type": type_, "object": obj}).encode() + b"\n")


def _patched(current: Obj, patch: Any, content_type: str) -> Obj:
    if content_type == "application/json-patch+json":
        return jsonpatch.apply_patch(current, patch)
    if content_type in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
        return merge_patch(current, patch)
    raise ApiError(415, "UnsupportedMediaType", content_type)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


@contextlib.asynccontextmanager
async def serving(crds: list[Obj] = ()) -> AsyncIterator[ApiServer]:  # type: ignore[assignment]
    """The server on a free port of 127.0.0.1; ``server.url`` is its address."""
    server = ApiServer()
    for crd in crds:
        server.install_crd(crd)
    runner = web.AppRunner(server.app, handle_signals=False, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server.url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        await runner.cleanup()
