"""Every object a FlowApp becomes on a cluster, from the loaded app: pure, no I/O.

    FlowApp + Target + images ──choose_mode──> engine or flows
        engine: ConfigMap, engine Service + Deployment, function Services, Broker,
                sources, Triggers (sources -> engine, listened events -> engine)
        flows:  function Services, Broker, sources, Sequence (+ Parallel),
                Triggers (sources -> Sequence, `dev.flowapp.invoke` -> Sequence)

``flowapp k8s render`` prints the result; the operator applies it and owns every object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flowapp.apps.model import FlowApp
from flowapp.events.delivery import is_url
from flowapp.operator import engine, eventing, flows, functions, names
from flowapp.operator.listening import listen_filters
from flowapp.operator.target import Mode, Target

Obj = dict[str, Any]
INVOKE_TYPE = "dev.flowapp.invoke"


class MissingImages(ValueError):
    """Functions with no container image: nothing can run them on a cluster."""

    def __init__(self, functions: list[str]) -> None:
        listed = ", ".join(functions)
        super().__init__(
            f"no image for function(s) {listed}: set spec.functions.<name>.image, "
            "or give an image prefix (flowapp k8s images prints the names)"
        )
        self.functions = functions


@dataclass(frozen=True)
class Rendering:
    app: str
    namespace: str
    mode: Mode
    reasons: list[str]
    objects: list[Obj]


def render(app: FlowApp, target: Target, images: Mapping[str, str]) -> Rendering:
    """Every object of ``app``; raises ``MissingImages`` and, for a forced ``flows`` mode
    the app does not fit, ``ValueError``."""
    missing = sorted(set(app.functions) - set(images))
    if missing:
        raise MissingImages(missing)
    images = {name: images[name] for name in app.functions}
    namespace = target.namespace or app.namespace
    choice = flows.choose_mode(app, target.mode)
    broker_name = target.broker or names.broker(app.name)
    dead_letter = _dead_letter(app, namespace)
    delivery = eventing.delivery_spec(app.delivery, dead_letter)
    objects = functions.function_services(app, namespace, images)
    if target.broker is None:
        objects.append(eventing.broker(app.name, namespace, app.delivery, dead_letter))
    sink = eventing.broker_ref(broker_name, namespace)
    sourced = [t for t in app.triggers if eventing.knative_kind(t) is not None]
    objects += [eventing.source(app, namespace, trigger, sink) for trigger in sourced]
    route = _Router(app.name, namespace, broker_name, delivery)
    if choice.mode == "flows":
        objects += flows.flow_objects(app.name, namespace, choice.steps, delivery)
        into = flows.sequence_destination(app.name)
        objects += [route.source(t.name, into) for t in sourced]
        objects.append(route.invoke(into))
    else:
        objects = _engine_objects(app, namespace, target, broker_name) + objects
        objects += [
            route.source(
                t.name,
                engine.engine_destination(
                    app.name, namespace, engine.trigger_path(app.name, t.name)
                ),
            )
            for t in sourced
        ]
        listened = listen_filters(app.workflow)
        if listened is not None:
            objects.append(route.events(listened))
    return Rendering(app.name, namespace, choice.mode, choice.reasons, objects)


def _engine_objects(app: FlowApp, namespace: str, target: Target, broker_name: str) -> list[Obj]:
    return [
        engine.config_map(app, namespace),
        engine.service(app.name, namespace),
        engine.deployment(app, namespace, target, broker_name),
    ]


@dataclass(frozen=True)
class _Router:
    """The app's Knative Triggers: all on one broker, with the app's delivery."""

    app: str
    namespace: str
    broker: str
    delivery: Obj

    def source(self, trigger: str, subscriber: Obj) -> Obj:
        return self._trigger(
            f"on-{trigger}", subscriber, eventing.source_filter(self.app, trigger), trigger
        )

    def invoke(self, subscriber: Obj) -> Obj:
        filters = [{"exact": {"type": INVOKE_TYPE}}, {"exact": {eventing.APP_EXTENSION: self.app}}]
        return self._trigger("invoke", subscriber, filters)

    def events(self, filters: list[Obj]) -> Obj:
        subscriber = engine.engine_destination(
            self.app, self.namespace, engine.events_path(self.app)
        )
        return self._trigger("events", subscriber, filters)

    def _trigger(
        self, purpose: str, subscriber: Obj, filters: list[Obj], trigger: str | None = None
    ) -> Obj:
        return eventing.knative_trigger(
            self.app,
            self.namespace,
            name=names.knative_trigger(self.app, purpose),
            broker_name=self.broker,
            subscriber=subscriber,
            filters=filters,
            delivery=self.delivery,
            trigger=trigger,
        )


def _dead_letter(app: FlowApp, namespace: str) -> Obj | None:
    sink = app.delivery.dead_letter_sink
    if sink is None or not isinstance(sink, str):
        return None
    if is_url(sink):
        return {"uri": sink}
    service = names.function_service(app.name, sink)
    ref = {"apiVersion": functions.SERVING, "kind": "Service", "name": service}
    return {"ref": ref | {"namespace": namespace}}
