"""The schemas a Kubernetes API server would check our objects against, with no cluster.

- Custom kinds (Knative's and the FlowApp): each CRD's ``openAPIV3Schema`` from
  ``tests/fixtures/knative`` (copies of Knative's own CRDs) and ``flowapp k8s crd``.
- Built-in kinds (ConfigMap, Deployment, Service, RBAC, ...): Kubernetes' own OpenAPI
  schemas as packaged by ``kubernetes-validate``.

Both are checked *strictly*: a key a schema does not declare is an error. A real API
server prunes such keys from custom objects without a word (and drops them from built-in
ones), so a misspelt or misplaced field would be lost silently; here it fails the test.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml
from jsonschema import Draft7Validator

from flowapp.operator.crd import flowapp_crd

ROOT = Path(__file__).resolve().parents[2]
KNATIVE = ROOT / "tests" / "fixtures" / "knative"
SHARED_KNATIVE = ROOT / ".." / "shared" / "knative"
KUBERNETES_VERSION = "1.33.0"

Obj = dict[str, Any]


def knative_crd_files() -> list[Path]:
    return sorted(KNATIVE.rglob("*.yaml"))


@functools.cache
def crds() -> list[Obj]:
    """Every CRD the tests know: Knative's copies and the FlowApp's."""
    found = [flowapp_crd()]
    for path in knative_crd_files():
        for document in yaml.safe_load_all(path.read_text("utf-8")):
            if document and document.get("kind") == "CustomResourceDefinition":
                found.append(document)
    return found


def crd_for(api_version: str, kind: str) -> tuple[Obj, Obj] | None:
    """(CRD, version entry) serving ``api_version``/``kind``, or None for built-in kinds."""
    group, _, version = api_version.rpartition("/")
    for crd in crds():
        if crd["spec"]["group"] == group and crd["spec"]["names"]["kind"] == kind:
            for entry in crd["spec"]["versions"]:
                if entry["name"] == version:
                    return crd, entry
            raise AssertionError(f"{kind} has no version {version} in its CRD")
    return None


def strict(schema: Any) -> Any:
    """``schema`` refusing undeclared keys wherever the API server would prune them."""
    schema = copy.deepcopy(schema)
    for node in _nodes(schema):
        if (
            node.get("type") == "object"
            and "properties" in node
            and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")
        ):
            node["additionalProperties"] = False
    return schema


def _nodes(schema: Any) -> Iterator[Obj]:
    if isinstance(schema, dict):
        yield schema
        for value in schema.values():
            yield from _nodes(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _nodes(value)


@functools.cache
def _validator(api_version: str, kind: str) -> Draft7Validator:
    found = crd_for(api_version, kind)
    assert found is not None
    schema = strict(found[1]["schema"]["openAPIV3Schema"])
    # The server always keeps apiVersion, kind and metadata at the root, declared or not;
    # metadata is only `type: object` in a CRD, and the server checks it itself.
    schema["properties"] |= {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"type": "object"},
    }
    return Draft7Validator(schema)


def problems(obj: Obj) -> list[str]:
    """Why the API server would refuse (or silently prune part of) ``obj``; [] if not."""
    if crd_for(obj["apiVersion"], obj["kind"]) is None:
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            return [f"{'/'.join(map(str, error.path))}: {error.message}"]
        return []
    errors = _validator(obj["apiVersion"], obj["kind"]).iter_errors(obj)
    return [f"/{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]


def name_problems(obj: Obj) -> list[str]:
    """Object names: DNS-1123 labels of at most 63 characters, as the server requires."""
    import re

    name = obj["metadata"].get("name", "")
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name) or len(name) > 63:
        return [f"{obj['kind']} name {name!r} is not a DNS-1123 label"]
    return []
