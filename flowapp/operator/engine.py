"""The flowapp engine of one app on the cluster: a ConfigMap, a Deployment and a Service.

- ConfigMap ``<app>-flowapp``: the FlowApp as the engine runs it (``flowapp.yaml``), with
  the workflow inline and only the triggers the engine runs itself (those that became
  Knative sources are left out, or they would fire twice);
- Deployment ``<app>-engine``: ``engine_replicas`` replicas of the engine and API sharing
  one PostgreSQL database, whose URL comes from a Secret (``database_secret``, key
  ``database_key``) and never appears in an object the operator writes; each replica is
  named after its pod, as the scale-out store requires; function calls go to the Knative
  Services' cluster addresses (``FLOWAPP_FUNCTION_URL_<NAME>``) and ``emit`` to the
  Broker's ingress (``FLOWAPP_BROKER_URL``);
- Service ``<app>-engine``: port 80 for the API, webhooks, and the CloudEvents the
  app's Knative Triggers deliver (``/api/v1/apps/<app>/triggers/<trigger>/events`` for a
  source's events, ``/api/v1/events`` for ``listen`` and ``schedule.on``).
"""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML

from flowapp.apps.model import FlowApp
from flowapp.operator import names
from flowapp.operator.eventing import knative_kind
from flowapp.operator.functions import service_url
from flowapp.operator.target import ENGINE_PORT, Target, cluster_domain_url

Obj = dict[str, Any]
CONFIG_FILE = "flowapp.yaml"
CONFIG_DIR = "/etc/flowapp"
BROKER_INGRESS = "http://broker-ingress.knative-eventing.svc.cluster.local"


def flowapp_object(app: FlowApp, images: dict[str, str]) -> Obj:
    """The app as a ``FlowApp`` object for a cluster: workflow inline, each function's
    image named and its folder left out, every trigger kept."""
    spec = dict(app.resource.get("spec") or {})
    spec.pop("workflowRef", None)
    spec["workflow"] = app.workflow
    spec["functions"] = {
        name: {key: value for key, value in entry.items() if key != "path"}
        | {"image": images[name]}
        for name, entry in (spec.get("functions") or {}).items()
    }
    metadata: Obj = {"name": app.name, "namespace": app.namespace}
    if app.labels:
        metadata["labels"] = dict(app.labels)
    return {
        "apiVersion": app.resource["apiVersion"],
        "kind": "FlowApp",
        "metadata": metadata,
        "spec": spec,
    }


def engine_resource(app: FlowApp) -> Obj:
    """The FlowApp the engine runs: as on the cluster, but without images (the engine
    calls functions by their Services' addresses) and with only the triggers it runs
    itself, so that a change of image or of a Knative source leaves the engine alone."""
    resource = flowapp_object(app, {name: "" for name in app.functions})
    spec = resource["spec"]
    for entry in spec["functions"].values():
        del entry["image"]
    kept = {t.name for t in app.triggers if knative_kind(t) is None}
    spec["triggers"] = [t for t in spec.get("triggers") or [] if t.get("name") in kept]
    if not spec["triggers"]:
        del spec["triggers"]
    return resource


def config_map(app: FlowApp, namespace: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(names.app_config(app.name), namespace, app.name),
        "data": {CONFIG_FILE: dump_yaml(engine_resource(app))},
    }


def deployment(app: FlowApp, namespace: str, target: Target, broker_name: str) -> Obj:
    selector = {names.APP_LABEL: app.name, names.COMPONENT_LABEL: "engine"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(names.engine(app.name), namespace, app.name),
        "spec": {
            "replicas": target.engine_replicas,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": names.labels(app.name, "engine")},
                "spec": {
                    "containers": [_container(app, namespace, target, broker_name)],
                    "volumes": [
                        {"name": "flowapp", "configMap": {"name": names.app_config(app.name)}},
                        {"name": "data", "emptyDir": {}},
                    ],
                },
            },
        },
    }


def _container(app: FlowApp, namespace: str, target: Target, broker_name: str) -> Obj:
    env: list[Obj] = [
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {
            "name": "FLOWAPP_DATABASE_URL",
            "valueFrom": {
                "secretKeyRef": {"name": target.database_secret, "key": target.database_key}
            },
        },
        {"name": "FLOWAPP_BROKER_URL", "value": f"{BROKER_INGRESS}/{namespace}/{broker_name}"},
    ]
    env += [
        {"name": function_url_variable(name), "value": service_url(app.name, name, namespace)}
        for name in sorted(app.functions)
    ]
    return {
        "name": "engine",
        "image": target.engine_image_name,
        "args": [
            "up",
            "--host=0.0.0.0",
            f"--port={ENGINE_PORT}",
            "--data-dir=/var/lib/flowapp",
            "--db=$(FLOWAPP_DATABASE_URL)",
            "--owner=$(POD_NAME)",
            f"--app={CONFIG_DIR}",
        ],
        "ports": [{"name": "http", "containerPort": ENGINE_PORT}],
        "env": env,
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": ENGINE_PORT}},
        "volumeMounts": [
            {"name": "flowapp", "mountPath": CONFIG_DIR, "readOnly": True},
            {"name": "data", "mountPath": "/var/lib/flowapp"},
        ],
    }


def function_url_variable(function: str) -> str:
    return "FLOWAPP_FUNCTION_URL_" + function.upper().replace("-", "_")


def service(app: str, namespace: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(names.engine(app), namespace, app),
        "spec": {
            "selector": {names.APP_LABEL: app, names.COMPONENT_LABEL: "engine"},
            "ports": [{"name": "http", "port": 80, "targetPort": ENGINE_PORT}],
        },
    }


def engine_destination(app: str, namespace: str, path: str) -> Obj:
    """A Knative destination: the engine's Service, at ``path``."""
    return {
        "ref": {"apiVersion": "v1", "kind": "Service", "name": names.engine(app)},
        "uri": path,
    }


def api_url(app: str, namespace: str) -> str:
    return cluster_domain_url(names.engine(app), namespace, f"/api/v1/apps/{app}")


def trigger_path(app: str, trigger: str) -> str:
    return f"/api/v1/apps/{app}/triggers/{trigger}/events"


def _metadata(name: str, namespace: str, app: str) -> Obj:
    return {"name": name, "namespace": namespace, "labels": names.labels(app, "engine")}


def dump_yaml(data: Any) -> str:
    """One YAML document; multi-line text (a ConfigMap's file) as a literal block."""
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    yaml.representer.add_representer(str, _text)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _text(representer: Any, value: str) -> Any:
    style = "|" if "\n" in value else None
    return representer.represent_scalar("tag:yaml.org,2002:str", value, style=style)
