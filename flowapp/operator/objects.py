"""The operator's view of objects: its FlowApps as the loader wants them, what it owns,
how a drifted object is told from a defaulted one, and how it is replaced. Pure."""

from __future__ import annotations

import copy
from typing import Any

Obj = dict[str, Any]
API_VERSION = "flowapp.dev/v1alpha1"

# Every kind an app may own (the operator's RBAC in manifests.py lists the same).
CHILD_KINDS = [
    ("v1", "ConfigMap"),
    ("v1", "Service"),
    ("apps/v1", "Deployment"),
    ("serving.knative.dev/v1", "Service"),
    ("eventing.knative.dev/v1", "Broker"),
    ("eventing.knative.dev/v1", "Trigger"),
    ("sources.knative.dev/v1", "PingSource"),
    ("sources.knative.dev/v1beta1", "KafkaSource"),
    ("sources.knative.dev/v1alpha1", "RedisStreamSource"),
    ("flows.knative.dev/v1", "Sequence"),
    ("flows.knative.dev/v1", "Parallel"),
]


def as_resource(body: Obj) -> Obj:
    meta = body["metadata"]
    metadata = {"name": meta["name"], "namespace": meta["namespace"]}
    if meta.get("labels"):
        metadata["labels"] = meta["labels"]
    return {
        "apiVersion": body.get("apiVersion", API_VERSION),
        "kind": "FlowApp",
        "metadata": metadata,
        "spec": body.get("spec") or {},
    }


def declared_images(body: Obj) -> dict[str, str]:
    functions = (body.get("spec") or {}).get("functions") or {}
    return {
        name: entry["image"]
        for name, entry in functions.items()
        if isinstance(entry, dict) and entry.get("image")
    }


def written_key(obj: Obj) -> tuple[str, str, str, str]:
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    return (group, obj.get("kind", ""), obj["metadata"]["namespace"], obj["metadata"]["name"])


def identity(obj: Obj) -> tuple[str, str, str]:
    return (str(obj["apiVersion"]).rpartition("/")[0], obj["kind"], obj["metadata"]["name"])


def is_subset(desired: Any, actual: Any) -> bool:
    """Whether ``actual`` holds every value ``desired`` states (it may hold more: defaults)."""
    if isinstance(desired, dict):
        return isinstance(actual, dict) and all(
            key in actual and is_subset(value, actual[key]) for key, value in desired.items()
        )
    if isinstance(desired, list):
        return (
            isinstance(actual, list)
            and len(desired) == len(actual)
            and all(is_subset(d, a) for d, a in zip(desired, actual, strict=True))
        )
    return bool(desired == actual)


def replacement(desired: Obj, current: Obj) -> Obj:
    """The body that replaces ``current``: the desired object, with the server's identity
    and what others keep in metadata (labels and annotations we do not set, such as
    Knative's creator annotations), and the cluster IP a Service cannot change."""
    body = copy.deepcopy(desired)
    meta, old = body["metadata"], current["metadata"]
    meta["resourceVersion"] = old["resourceVersion"]
    for key in ("labels", "annotations"):
        merged = {**(old.get(key) or {}), **(meta.get(key) or {})}
        if merged:
            meta[key] = merged
    if old.get("finalizers"):
        meta["finalizers"] = old["finalizers"]
    if body["kind"] == "Service" and body["apiVersion"] == "v1":
        for key in ("clusterIP", "clusterIPs"):
            if key in (current.get("spec") or {}):
                body["spec"][key] = current["spec"][key]
    return body
