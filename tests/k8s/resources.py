"""What the in-memory API server serves: resource types, from built-ins and installed CRDs.

A :class:`ResourceType` is what discovery (``/api``, ``/apis/<group>/<version>``) lists and
what the store enforces: its scope, whether it has a ``status`` subresource, and the
structural schema of each served version (CRDs only; built-in kinds carry none here, the
render tests check them against Kubernetes' own schemas).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]


@dataclass(frozen=True)
class ResourceType:
    group: str
    versions: tuple[str, ...]
    plural: str
    kind: str
    namespaced: bool = True
    status_subresource: bool = False
    schemas: dict[str, Obj] = field(default_factory=dict, compare=False, hash=False)

    def api_version(self, version: str) -> str:
        return f"{self.group}/{version}" if self.group else version


BUILT_IN = [
    ResourceType("", ("v1",), "configmaps", "ConfigMap"),
    ResourceType("", ("v1",), "secrets", "Secret"),
    ResourceType("", ("v1",), "services", "Service", status_subresource=True),
    ResourceType("", ("v1",), "events", "Event"),
    ResourceType("", ("v1",), "namespaces", "Namespace", namespaced=False),
    ResourceType("apps", ("v1",), "deployments", "Deployment", status_subresource=True),
    ResourceType("events.k8s.io", ("v1",), "events", "Event"),
    ResourceType(
        "apiextensions.k8s.io",
        ("v1",),
        "customresourcedefinitions",
        "CustomResourceDefinition",
        namespaced=False,
    ),
]


def from_crd(crd: Obj) -> ResourceType:
    spec = crd["spec"]
    served = [v for v in spec["versions"] if v.get("served", True)]
    return ResourceType(
        group=spec["group"],
        versions=tuple(v["name"] for v in served),
        plural=spec["names"]["plural"],
        kind=spec["names"]["kind"],
        namespaced=spec.get("scope", "Namespaced") == "Namespaced",
        status_subresource=any("status" in (v.get("subresources") or {}) for v in served),
        schemas={v["name"]: copy.deepcopy(v["schema"]["openAPIV3Schema"]) for v in served},
    )


# --- the API server's structural-schema rules ------------------------------------------------

_ROOT_KEYS = ("apiVersion", "kind", "metadata")


def unknown_fields(schema: Obj, value: Any, path: str = "") -> list[str]:
    """Paths of the keys the server would prune: not declared where the schema declares
    properties and does not preserve unknown fields."""
    found: list[str] = []
    if not isinstance(value, dict | list) or schema.get("x-kubernetes-preserve-unknown-fields"):
        if isinstance(value, dict) and "properties" in schema:
            for key, child in value.items():
                if key in schema["properties"]:
                    found += unknown_fields(schema["properties"][key], child, f"{path}.{key}")
        return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found += unknown_fields(schema.get("items") or {}, item, f"{path}[{index}]")
        return found
    properties = schema.get("properties")
    extra = schema.get("additionalProperties")
    for key, child in value.items():
        if properties is not None and key in properties:
            found += unknown_fields(properties[key], child, f"{path}.{key}")
        elif isinstance(extra, dict):
            found += unknown_fields(extra, child, f"{path}.{key}")
        elif properties is not None and not (path == "" and key in _ROOT_KEYS):
            found.append(f"{path}.{key}")
    return found


def prune(schema: Obj, value: Any, path: str = "") -> Any:
    """``value`` without the keys :func:`unknown_fields` finds (a copy)."""
    doomed = set(unknown_fields(schema, value, path))
    return _without(value, doomed, path)


def _without(value: Any, doomed: set[str], path: str) -> Any:
    if isinstance(value, dict):
        return {
            k: _without(v, doomed, f"{path}.{k}")
            for k, v in value.items()
            if f"{path}.{k}" not in doomed
        }
    if isinstance(value, list):
        return [_without(v, doomed, f"{path}[{i}]") for i, v in enumerate(value)]
    return value
