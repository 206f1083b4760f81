"""The ``flowapps.flowapp.dev`` CustomResourceDefinition, made from the resource model.

The spec's schema is ``flowapp.apps.schema.spec_schema()``: the same model the
``flowapp.yaml`` readers are checked against, so the cluster and the loader agree on what
a FlowApp may say. The status is what the operator writes (``status.py``): conditions
with Kubernetes' shape, ``observedGeneration``, the app's API URL, its mode and revision.
"""

from __future__ import annotations

from typing import Any

from flowapp.apps.model import API_VERSION, KIND
from flowapp.apps.schema import obj, spec_schema

Obj = dict[str, Any]
GROUP, VERSION = API_VERSION.split("/")
PLURAL = "flowapps"
NAME = f"{PLURAL}.{GROUP}"

_CONDITION = obj(
    {
        "type": {"type": "string"},
        "status": {"type": "string", "enum": ["True", "False", "Unknown"]},
        "reason": {"type": "string"},
        "message": {"type": "string"},
        "lastTransitionTime": {"type": "string", "format": "date-time"},
        "observedGeneration": {"type": "integer", "format": "int64"},
    },
    required=("type", "status"),
)

STATUS_SCHEMA = obj(
    {
        "observedGeneration": {"type": "integer", "format": "int64"},
        "url": {"type": "string", "description": "the app's API route"},
        "mode": {"type": "string", "enum": ["engine", "flows"]},
        "revision": {"type": "string", "description": "digest of the spec last applied"},
        "conditions": {
            "type": "array",
            "items": _CONDITION,
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["type"],
        },
    }
)


def _ready(field: str) -> str:
    return f'.status.conditions[?(@.type=="Ready")].{field}'


def flowapp_crd() -> Obj:
    schema = obj(
        {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": spec_schema(),
            "status": STATUS_SCHEMA,
        },
        required=("spec",),
    )
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": NAME, "labels": {"app.kubernetes.io/part-of": "flowapp"}},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": KIND,
                "listKind": f"{KIND}List",
                "plural": PLURAL,
                "singular": KIND.lower(),
                "shortNames": ["fa"],
                "categories": ["all", "flowapp"],
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [
                        {"name": "Ready", "type": "string", "jsonPath": _ready("status")},
                        {"name": "Reason", "type": "string", "jsonPath": _ready("reason")},
                        {"name": "Revision", "type": "string", "jsonPath": ".status.revision"},
                        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                    ],
                    "schema": {"openAPIV3Schema": schema},
                }
            ],
        },
    }
