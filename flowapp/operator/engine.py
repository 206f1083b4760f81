"""The flowapp engine of one app on the cluster: a ConfigMap, a Deployment and a Service.

- ConfigMap ``<app>-flowapp``: the FlowApp as the engine runs it (``flowapp.yaml``), with
  the workflow inline, every trigger, and no images;
- Deployment ``<app>-engine``: ``engine_replicas`` replicas of ``flowapp cluster-engine``
  (``flowapp.cluster``) sharing one PostgreSQL database, whose URL comes from a Secret
  (``database_secret``, key ``database_key``) and never appears in an object the operator
  writes; each replica is named after its pod, as the scale-out store requires; function
  calls go to the Knative Services' cluster addresses (``FLOWAPP_FUNCTION_URL_<NAME>``),
  ``emit`` to the Broker's ingress (``FLOWAPP_BROKER_URL``), and the triggers that became
  Knative sources are named (``--knative-source``) so that the engine does not run them
  too. The pod template carries a digest of the ConfigMap, so a change of the app rolls
  the replicas (a mounted ConfigMap changes under a running process otherwise);
- Service ``<app>-engine``: port 80 for the API (tokens, webhooks) and port 8081 for the
  CloudEvents the app's Knative Triggers deliver (``/apps/<app>/triggers/<trigger>/events``
  for a source's events, ``/apps/<app>/events`` for ``listen`` and ``schedule.on``), which
  carry no token and so are kept off the API's port.
"""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

from ruamel.yaml import YAML

from flowapp.apps.model import FlowApp
from flowapp.functions.remote import url_variable
from flowapp.operator import names
from flowapp.operator.eventing import knative_kind
from flowapp.operator.functions import service_url, tag_url
from flowapp.operator.target import DELIVERY_PORT, ENGINE_PORT, Target, cluster_domain_url

Obj = dict[str, Any]
CONFIG_FILE = "flowapp.yaml"
CONFIG_DIR = "/etc/flowapp"
DATA_DIR = "/var/lib/flowapp"
CONFIG_ANNOTATION = "flowapp.dev/config"
SECRETS_KEY = "secrets.json"
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
    calls functions by their Services' addresses) and their revisions and traffic, so
    that a change of image or of traffic leaves the engine alone. Every trigger stays:
    those Knative delivers are named to the engine (``--knative-source``), which reads
    their events as their settings say."""
    resource = flowapp_object(app, {name: "" for name in app.functions})
    for entry in resource["spec"]["functions"].values():
        del entry["image"]
    for key in ("revision", "traffic"):  # the Services' business: the engine calls them
        resource["spec"].pop(key, None)
    return resource


def knative_sources(app: FlowApp) -> list[str]:
    """The triggers that became Knative sources: their events come through the Broker."""
    return [t.name for t in app.triggers if knative_kind(t) is not None]


def config_map(app: FlowApp, namespace: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(names.app_config(app.name), namespace, app.name),
        "data": {CONFIG_FILE: config_text(app)},
    }


def config_text(app: FlowApp) -> str:
    return dump_yaml(engine_resource(app))


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
                "metadata": {
                    "labels": names.labels(app.name, "engine"),
                    "annotations": {CONFIG_ANNOTATION: _digest(config_text(app))},
                },
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
        secrets_variable(app.name),
    ]
    env += [
        {"name": url_variable(name), "value": service_url(app.name, name, namespace)}
        for name in sorted(app.functions)
    ]
    if app.traffic:
        env.append({"name": "FLOWAPP_TRAFFIC", "value": traffic_routes(app, namespace)})
    return {
        "name": "engine",
        "image": target.engine_image_name,
        "args": engine_args(app),
        "ports": [
            {"name": "http", "containerPort": ENGINE_PORT},
            {"name": "deliveries", "containerPort": DELIVERY_PORT},
        ],
        "env": env,
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": DELIVERY_PORT}},
        "livenessProbe": {
            "httpGet": {"path": "/healthz", "port": ENGINE_PORT},
            "periodSeconds": 10,
            "failureThreshold": 6,
        },
        "volumeMounts": [
            {"name": "flowapp", "mountPath": CONFIG_DIR, "readOnly": True},
            {"name": "data", "mountPath": DATA_DIR},
        ],
        "securityContext": {
            "runAsNonRoot": True,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }


def secrets_variable(app: str) -> Obj:
    """The app's secrets (``use.secrets``), if its Secret ``<app>-secrets`` exists: a JSON
    object under the key ``secrets.json``, which the engine reads as
    ``FLOWAPP_SECRETS_<APP>`` (as ``flowapp up`` does). Optional: without the Secret the
    pod starts, and a workflow declaring a secret it lacks faults with a 403."""
    reference = {"name": names.app_secrets(app), "key": SECRETS_KEY, "optional": True}
    return {
        "name": "FLOWAPP_SECRETS_" + app.upper().replace("-", "_"),
        "valueFrom": {"secretKeyRef": reference},
    }


def traffic_routes(app: FlowApp, namespace: str) -> str:
    """``spec.traffic`` for the engine, which splits whole executions by it: each revision's
    percent and its functions' addresses by its traffic tag (``flowapp.cluster.split``)."""
    routes = [
        {
            "revision": target.revision,
            "percent": target.percent,
            "tag": target.tag,
            "urls": {
                name: tag_url(app.name, name, namespace, target.tag)
                for name in sorted(app.functions)
            },
        }
        for target in app.traffic
    ]
    return json.dumps(routes, separators=(",", ":"))


def engine_args(app: FlowApp) -> list[str]:
    """``flowapp cluster-engine``'s arguments; the rest of its settings are the
    container's environment (the database URL among them: never on a command line)."""
    return [
        "cluster-engine",
        f"--app-file={CONFIG_DIR}/{CONFIG_FILE}",
        "--host=0.0.0.0",
        f"--port={ENGINE_PORT}",
        f"--delivery-port={DELIVERY_PORT}",
        f"--data-dir={DATA_DIR}",
        *(f"--knative-source={name}" for name in knative_sources(app)),
    ]


def service(app: str, namespace: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(names.engine(app), namespace, app),
        "spec": {
            "selector": {names.APP_LABEL: app, names.COMPONENT_LABEL: "engine"},
            "ports": [
                {"name": "http", "port": 80, "targetPort": ENGINE_PORT},
                {"name": "deliveries", "port": DELIVERY_PORT, "targetPort": DELIVERY_PORT},
            ],
        },
    }


def engine_destination(app: str, namespace: str, path: str) -> Obj:
    """A Knative destination: the engine Service's deliveries port, at ``path`` (a
    ``ref`` to a Service resolves to its port 80, the API's, so the address is given)."""
    service = cluster_domain_url(names.engine(app), namespace)
    return {"uri": f"{service}:{DELIVERY_PORT}{path}"}


def api_url(app: str, namespace: str) -> str:
    return cluster_domain_url(names.engine(app), namespace, f"/api/v1/apps/{app}")


def trigger_path(app: str, trigger: str) -> str:
    """Where a Knative source's events for ``trigger`` are delivered."""
    return f"/apps/{app}/triggers/{trigger}/events"


def events_path(app: str) -> str:
    """Where the events the app's workflow waits for (``listen``, ``schedule.on``) are."""
    return f"/apps/{app}/events"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


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
