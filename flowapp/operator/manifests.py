"""The operator's own objects: its Namespace, ServiceAccount, RBAC and Deployment.

Least privilege: the operator may read and write only the kinds a FlowApp becomes, write
the status and finalizers of FlowApps (it never creates or changes their spec), post
Events, and *get* one Secret name (the engine's database URL, to report a missing one):
it cannot list or read any other Secret. It lists and watches CRDs and namespaces
read-only, which kopf needs to find the resources it serves. It runs as one replica
(kopf's standalone mode: a second replica would reconcile the same objects twice).
"""

from __future__ import annotations

from typing import Any

from flowapp.operator.target import Target

Obj = dict[str, Any]
NAME = "flowapp-operator"
METRICS_PORT = 9090
WRITE = ["get", "list", "watch", "create", "update", "patch", "delete"]
READ = ["get", "list", "watch"]

OWNED: dict[str, list[str]] = {
    "": ["configmaps", "services"],
    "apps": ["deployments"],
    "serving.knative.dev": ["services"],
    "eventing.knative.dev": ["brokers", "triggers"],
    "sources.knative.dev": ["pingsources", "kafkasources", "redisstreamsources"],
    "flows.knative.dev": ["sequences", "parallels"],
}


def cluster_role(target: Target) -> Obj:
    rules: list[Obj] = [
        {
            "apiGroups": ["flowapp.dev"],
            "resources": ["flowapps"],
            "verbs": [*READ, "patch", "update"],
        },
        {
            "apiGroups": ["flowapp.dev"],
            "resources": ["flowapps/status"],
            "verbs": ["get", "patch", "update"],
        },
    ]
    rules += [
        {"apiGroups": [group], "resources": kinds, "verbs": WRITE} for group, kinds in OWNED.items()
    ]
    rules += [
        {
            "apiGroups": [""],
            "resources": ["secrets"],
            "resourceNames": [target.database_secret],
            "verbs": ["get"],
        },
        {"apiGroups": ["", "events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch"]},
        {
            "apiGroups": ["apiextensions.k8s.io"],
            "resources": ["customresourcedefinitions"],
            "verbs": ["list", "watch"],
        },
        {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["list", "watch"]},
    ]
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": NAME},
        "rules": rules,
    }


def operator_manifests(namespace: str, target: Target) -> list[Obj]:
    labels = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/part-of": "flowapp"}
    metadata = {"name": NAME, "namespace": namespace, "labels": labels}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata},
        cluster_role(target),
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": NAME},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": NAME,
            },
            "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": namespace}],
        },
        _deployment(metadata, labels, target),
    ]


def _deployment(metadata: Obj, labels: dict[str, str], target: Target) -> Obj:
    container = {
        "name": "operator",
        "image": target.engine_image_name,
        "args": [
            "operator",
            "--all-namespaces",
            f"--metrics-port={METRICS_PORT}",
            f"--database-secret={target.database_secret}",
        ],
        "ports": [{"name": "metrics", "containerPort": METRICS_PORT}],
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": METRICS_PORT}},
        "securityContext": {
            "runAsNonRoot": True,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata,
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"serviceAccountName": NAME, "containers": [container]},
            },
        },
    }
