"""One Knative Serving ``Service`` per function of a FlowApp.

What the function's settings become (the Knative annotations are Knative's autoscaler's):

- ``scale.min`` / ``scale.max``: ``autoscaling.knative.dev/min-scale`` / ``max-scale``;
  ``min: 0`` scales to zero, and ``idlePeriod`` becomes ``scale-down-delay`` (how long an
  idle revision keeps its pods);
- ``scale.concurrency``: ``containerConcurrency`` (a hard limit, as locally);
- ``timeout``: ``timeoutSeconds`` (whole seconds, at least 1);
- ``env``: the container's environment; the language host listens on ``$PORT``, which
  Knative sets from the container port, and on all interfaces (``HOST=0.0.0.0``);
- ``startupTimeout``: the readiness probe's budget on ``/healthz``.

A change of image or settings changes the template, which rolls a new revision; reconciling
an unchanged app changes nothing, so it rolls nothing.

Revisions and traffic (``flowapp.apps.traffic``): with ``spec.revision`` the template is
named ``<service>-<revision>``, so each app revision is a Knative Revision of every
function, found by that name; ``spec.traffic`` becomes each Service's ``spec.traffic``,
one target per app revision (``revisionName``, ``percent``, ``tag``: the tag's address,
``<tag>-<service>.<namespace>.svc.cluster.local``, reaches that revision alone). Without
``spec.revision`` Knative names the revisions and routes everything to the latest.
"""

from __future__ import annotations

import math
from typing import Any

from flowapp.apps.model import FlowApp
from flowapp.apps.traffic import TrafficTarget
from flowapp.functions.spec import FunctionSpec
from flowapp.operator import names
from flowapp.operator.target import FUNCTION_PORT

Obj = dict[str, Any]
SERVING = "serving.knative.dev/v1"


def function_services(app: FlowApp, namespace: str, images: dict[str, str]) -> list[Obj]:
    services = []
    for name, spec in sorted(app.functions.items()):
        service = function_service(app.name, namespace, spec, images[name])
        _name_revision(service, app.revision, app.traffic)
        services.append(service)
    return services


def function_service(app: str, namespace: str, spec: FunctionSpec, image: str) -> Obj:
    labels = names.labels(app, "function", function=spec.name)
    return {
        "apiVersion": SERVING,
        "kind": "Service",
        "metadata": {
            "name": names.function_service(app, spec.name),
            "namespace": namespace,
            "labels": labels,
        },
        "spec": {
            "template": {
                "metadata": {"labels": labels, "annotations": _scaling(spec)},
                "spec": {
                    "containerConcurrency": spec.scale.concurrency,
                    "timeoutSeconds": max(1, math.ceil(spec.timeout)),
                    "containers": [_container(app, spec, image)],
                },
            }
        },
    }


def _name_revision(service: Obj, revision: str | None, traffic: tuple[TrafficTarget, ...]) -> None:
    if revision is None:
        return
    name = service["metadata"]["name"]
    service["spec"]["template"]["metadata"]["name"] = revision_name(name, revision)
    if traffic:
        service["spec"]["traffic"] = [
            {"revisionName": revision_name(name, t.revision), "percent": t.percent, "tag": t.tag}
            for t in traffic
        ]


def revision_name(service: str, revision: str) -> str:
    """The Knative Revision of a function's Service for an app revision."""
    return f"{service}-{revision}"


def _scaling(spec: FunctionSpec) -> dict[str, str]:
    return {
        "autoscaling.knative.dev/min-scale": str(spec.scale.min),
        "autoscaling.knative.dev/max-scale": str(spec.scale.max),
        "autoscaling.knative.dev/scale-down-delay": f"{math.ceil(spec.idle_period)}s",
    }


def _container(app: str, spec: FunctionSpec, image: str) -> Obj:
    env = {"HOST": "0.0.0.0", "FLOWAPP_APP": app, "FLOWAPP_FUNCTION": spec.name}
    env |= {"FLOWAPP_CONCURRENCY": str(spec.scale.concurrency)}
    env |= dict(spec.env)
    period = 1
    return {
        "name": "function",
        "image": image,
        "ports": [{"containerPort": FUNCTION_PORT}],
        "env": [{"name": key, "value": value} for key, value in sorted(env.items())],
        "readinessProbe": {
            "httpGet": {"path": "/healthz"},
            "periodSeconds": period,
            "failureThreshold": max(1, math.ceil(spec.startup_timeout / period)),
        },
    }


def service_url(app: str, function: str, namespace: str) -> str:
    """The cluster address the engine calls a function at."""
    return f"http://{names.function_service(app, function)}.{namespace}.svc.cluster.local"


def tag_url(app: str, function: str, namespace: str, tag: str) -> str:
    """The cluster address of one traffic tag of a function (Knative's default tag
    template, ``{{.Tag}}-{{.Name}}``): that revision alone."""
    service = names.function_service(app, function)
    return f"http://{tag}-{service}.{namespace}.svc.cluster.local"
