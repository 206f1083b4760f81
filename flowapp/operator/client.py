"""A small asynchronous Kubernetes API client: the few calls the operator makes.

kopf watches and patches the FlowApps itself but offers no client for other objects, so
the operator reads and writes its children here, over aiohttp (which kopf uses too), with
the credentials kopf's login found (``kopf.ConnectionInfo``: a server URL, a bearer token
or client certificate, a CA). API errors become :class:`ApiError` with the HTTP status,
so the reconciler can tell "not found" and "conflict" from the rest.
"""

from __future__ import annotations

import ssl
import tempfile
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import aiohttp
import kopf

Obj = dict[str, Any]

# (group, kind) -> plural; all of them are namespaced.
PLURALS: Mapping[tuple[str, str], str] = {
    ("", "ConfigMap"): "configmaps",
    ("", "Service"): "services",
    ("", "Secret"): "secrets",
    ("apps", "Deployment"): "deployments",
    ("serving.knative.dev", "Service"): "services",
    ("eventing.knative.dev", "Broker"): "brokers",
    ("eventing.knative.dev", "Trigger"): "triggers",
    ("sources.knative.dev", "PingSource"): "pingsources",
    ("sources.knative.dev", "KafkaSource"): "kafkasources",
    ("sources.knative.dev", "RedisStreamSource"): "redisstreamsources",
    ("flows.knative.dev", "Sequence"): "sequences",
    ("flows.knative.dev", "Parallel"): "parallels",
    ("flowapp.dev", "FlowApp"): "flowapps",
}


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def path(api_version: str, kind: str, namespace: str, name: str | None = None) -> str:
    group, _, version = api_version.rpartition("/")
    plural = PLURALS[(group, kind)]
    root = f"/apis/{group}/{version}" if group else f"/api/{version}"
    found = f"{root}/namespaces/{namespace}/{plural}"
    return f"{found}/{name}" if name else found


class Client:
    """Calls to one API server; ``close()`` when done."""

    def __init__(self, info: kopf.ConnectionInfo) -> None:
        self.server = info.server.rstrip("/")
        headers = {"Accept": "application/json"}
        if info.token:
            headers["Authorization"] = f"{info.scheme or 'Bearer'} {info.token}"
        connector = aiohttp.TCPConnector(ssl=_ssl_context(info), limit=32)
        self.session = aiohttp.ClientSession(headers=headers, connector=connector)

    async def close(self) -> None:
        await self.session.close()

    async def request(
        self, method: str, url: str, body: Any = None, *, content_type: str = "application/json"
    ) -> Obj:
        headers = {"Content-Type": content_type} if body is not None else {}
        async with self.session.request(
            method, self.server + url, json=body, headers=headers
        ) as response:
            data = await response.json(content_type=None)
            if response.status >= 400:
                message = data.get("message") if isinstance(data, dict) else str(data)
                raise ApiError(response.status, message or response.reason or "")
            return data if isinstance(data, dict) else {}

    async def get(self, api_version: str, kind: str, namespace: str, name: str) -> Obj | None:
        try:
            return await self.request("GET", path(api_version, kind, namespace, name))
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    async def list(self, api_version: str, kind: str, namespace: str, selector: str) -> list[Obj]:
        """Objects matching a label selector; none if the kind is not installed (404)."""
        query = urlencode({"labelSelector": selector})
        try:
            found = await self.request("GET", f"{path(api_version, kind, namespace)}?{query}")
        except ApiError as error:
            if error.status == 404:
                return []
            raise
        return list(found.get("items") or [])

    async def create(self, obj: Obj) -> Obj:
        meta = obj["metadata"]
        url = path(obj["apiVersion"], obj["kind"], meta["namespace"])
        return await self.request("POST", url + "?fieldValidation=Strict", obj)

    async def replace(self, obj: Obj) -> Obj:
        meta = obj["metadata"]
        url = path(obj["apiVersion"], obj["kind"], meta["namespace"], meta["name"])
        return await self.request("PUT", url + "?fieldValidation=Strict", obj)

    async def delete(self, obj: Obj) -> None:
        meta = obj["metadata"]
        url = path(obj["apiVersion"], obj["kind"], meta["namespace"], meta["name"])
        try:
            await self.request("DELETE", url)
        except ApiError as error:
            if error.status != 404:
                raise

    async def patch_status(
        self, api_version: str, kind: str, namespace: str, name: str, status: Obj
    ) -> Obj:
        url = path(api_version, kind, namespace, name) + "/status"
        body = {"status": status}
        return await self.request("PATCH", url, body, content_type="application/merge-patch+json")


def _ssl_context(info: kopf.ConnectionInfo) -> ssl.SSLContext | bool:
    if not info.server.startswith("https"):
        return False
    if info.insecure:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    context = ssl.create_default_context(
        cafile=_file(info.ca_path, None),
        cadata=info.ca_data.decode() if isinstance(info.ca_data, bytes) else info.ca_data,
    )
    certificate = _file(info.certificate_path, info.certificate_data)
    if certificate:
        context.load_cert_chain(certificate, _file(info.private_key_path, info.private_key_data))
    return context


def _file(path_: Any, data: Any) -> str | None:
    """A path for ``ssl``: the given one, or a private temporary file holding ``data``."""
    if path_:
        return str(path_)
    if not data:
        return None
    handle = tempfile.NamedTemporaryFile("wb", suffix=".pem", delete=False)  # noqa: SIM115
    with handle:
        handle.write(data if isinstance(data, bytes) else data.encode())
    return handle.name
