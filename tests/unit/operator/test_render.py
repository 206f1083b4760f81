"""``render``: every object a FlowApp becomes passes Knative's (and Kubernetes') own schemas,
with undeclared keys refused, and says what the app's settings say."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from flowapp.apps.loader import load_app
from flowapp.operator import names
from flowapp.operator.render import MissingImages, render
from flowapp.operator.target import Target
from tests.k8s.schemas import name_problems, problems

ROOT = Path(__file__).resolve().parents[3]
# A folder with flowapp.yaml, or a plain workflow (wrapped into a FlowApp).
EXAMPLES = sorted(
    p if (p / "flowapp.yaml").is_file() else p / "workflow.yaml"
    for p in (ROOT / "examples").iterdir()
    if p.is_dir()
)
FLOWS = ROOT / "tests" / "fixtures" / "k8s"
APPS = [*EXAMPLES, FLOWS / "pure-sequence", FLOWS / "pure-fanout"]
IMAGES = {"append": "reg.example/a:1", "display": "reg.example/d:1"}


def images_for(app: Any) -> dict[str, str]:
    return {name: f"reg.example/{app.name}-{name}:1" for name in app.functions}


def by_kind(objects: list[dict[str, Any]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for obj in objects:
        found.setdefault(obj["kind"], []).append(obj["metadata"]["name"])
    return found


@pytest.mark.parametrize("folder", APPS, ids=lambda p: p.parent.name if p.is_file() else p.name)
def test_every_object_of_every_app_passes_its_schema(folder: Path) -> None:
    app = load_app(folder)
    rendering = render(app, Target(), images_for(app))
    assert rendering.objects
    for obj in rendering.objects:
        assert problems(obj) == [], (obj["kind"], obj["metadata"]["name"])
        assert name_problems(obj) == []
        assert obj["metadata"]["labels"][names.APP_LABEL] == app.name


def test_append_display_becomes_engine_services_broker_pingsource_and_trigger() -> None:
    app = load_app(ROOT / "examples" / "append-display")
    rendering = render(app, Target(), IMAGES)
    assert rendering.mode == "engine"
    assert by_kind(rendering.objects) == {
        "ConfigMap": ["append-display-flowapp"],
        "Service": ["append-display-engine", "append-display-append", "append-display-display"],
        "Deployment": ["append-display-engine"],
        "Broker": ["append-display"],
        "PingSource": ["append-display-nightly"],
        "Trigger": ["append-display-on-nightly"],
    }
    assert any("`with` needs the engine" in reason for reason in rendering.reasons)
    assert "trigger `orders` (nats) runs inside the engine" in rendering.reasons


def _find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


def test_function_settings_become_knative_settings() -> None:
    app = load_app(ROOT / "examples" / "append-display")
    spec = dataclasses.replace(
        app.functions["append"],
        scale=dataclasses.replace(app.functions["append"].scale, min=0, max=7, concurrency=3),
        timeout=2.5,
        env={"GREETING": "hi"},
    )
    app = dataclasses.replace(app, functions={**app.functions, "append": spec})
    service = _find(render(app, Target(), IMAGES).objects, "Service", "append-display-append")
    template = service["spec"]["template"]
    assert template["metadata"]["annotations"]["autoscaling.knative.dev/min-scale"] == "0"
    assert template["metadata"]["annotations"]["autoscaling.knative.dev/max-scale"] == "7"
    assert template["spec"]["containerConcurrency"] == 3
    assert template["spec"]["timeoutSeconds"] == 3
    container = template["spec"]["containers"][0]
    assert container["image"] == "reg.example/a:1"
    assert {"name": "GREETING", "value": "hi"} in container["env"]
    assert {"name": "HOST", "value": "0.0.0.0"} in container["env"]


def test_cron_becomes_a_pingsource_routed_to_the_engine_with_the_delivery_spec() -> None:
    app = load_app(ROOT / "examples" / "append-display")
    objects = render(app, Target(), IMAGES).objects
    ping = _find(objects, "PingSource", "append-display-nightly")
    assert ping["spec"]["schedule"] == "0 2 * * *"
    assert ping["spec"]["timezone"] == "Asia/Shanghai"
    assert ping["spec"]["data"] == '{"message": "nightly"}'
    assert ping["spec"]["sink"]["ref"]["kind"] == "Broker"
    extensions = ping["spec"]["ceOverrides"]["extensions"]
    assert extensions == {"flowapp": "append-display", "flowapptrigger": "nightly"}
    trigger = _find(objects, "Trigger", "append-display-on-nightly")
    assert trigger["spec"]["filters"] == [
        {"exact": {"flowapp": "append-display"}},
        {"exact": {"flowapptrigger": "nightly"}},
    ]
    assert trigger["spec"]["subscriber"] == {
        "uri": "http://append-display-engine.default.svc.cluster.local:8081"
        "/apps/append-display/triggers/nightly/events"
    }
    assert trigger["spec"]["delivery"] == {
        "retry": 3,
        "backoffPolicy": "exponential",
        "backoffDelay": "PT0.2S",
    }


def test_the_engine_is_told_which_triggers_knative_delivers_and_runs_the_others() -> None:
    app = load_app(ROOT / "examples" / "append-display")
    objects = render(app, Target(), IMAGES).objects
    config = _find(objects, "ConfigMap", "append-display-flowapp")
    text = config["data"]["flowapp.yaml"]
    # Every trigger is in the engine's file (it reads a source's events as its settings
    # say); the one that became a PingSource is named so the engine does not run it too.
    assert "orders.created" in text and "/hooks/orders" in text and "nightly" in text
    assert "reg.example" not in text  # the engine calls Services, not images
    deployment = _find(objects, "Deployment", "append-display-engine")
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[0] == "cluster-engine"
    assert [a for a in args if a.startswith("--knative-source")] == ["--knative-source=nightly"]


def test_a_change_of_the_app_rolls_the_engine_and_a_change_of_image_does_not() -> None:
    app = load_app(ROOT / "examples" / "append-display")

    def config_digest(objects: list[dict[str, Any]]) -> str:
        deployment = _find(objects, "Deployment", "append-display-engine")
        return str(deployment["spec"]["template"]["metadata"]["annotations"]["flowapp.dev/config"])

    before = config_digest(render(app, Target(), IMAGES).objects)
    other_image = config_digest(render(app, Target(), {**IMAGES, "append": "r/a:2"}).objects)
    workflow = {**app.workflow, "do": [app.workflow["do"][0]]}
    changed = config_digest(
        render(dataclasses.replace(app, workflow=workflow), Target(), IMAGES).objects
    )
    assert before == other_image
    assert changed != before


def test_knative_delivers_to_the_engines_deliveries_port_not_its_api() -> None:
    app = load_app(ROOT / "examples" / "append-display")
    objects = render(app, Target(), IMAGES).objects
    service = _find(objects, "Service", "append-display-engine")
    ports = {p["name"]: (p["port"], p["targetPort"]) for p in service["spec"]["ports"]}
    assert ports == {"http": (80, 8080), "deliveries": (8081, 8081)}
    container = _find(objects, "Deployment", "append-display-engine")["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": 8081}
    assert "--db" not in " ".join(container["args"])  # the URL stays in the environment


def test_the_engine_reads_its_database_url_from_the_secret_only() -> None:
    app = load_app(ROOT / "examples" / "append-display")
    target = Target(database_secret="shop-db", engine_replicas=3)
    deployment = _find(render(app, target, IMAGES).objects, "Deployment", "append-display-engine")
    assert deployment["spec"]["replicas"] == 3
    env = {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    secret = env["FLOWAPP_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    assert secret == {"name": "shop-db", "key": "url"}
    assert env["FLOWAPP_FUNCTION_URL_APPEND"]["value"] == (
        "http://append-display-append.default.svc.cluster.local"
    )


def test_a_pure_sequence_becomes_a_knative_sequence_with_no_engine() -> None:
    app = load_app(FLOWS / "pure-sequence")
    rendering = render(app, Target(), images_for(app))
    assert rendering.mode == "flows"
    kinds = by_kind(rendering.objects)
    assert "Deployment" not in kinds and "ConfigMap" not in kinds
    sequence = _find(rendering.objects, "Sequence", "thumbnails")
    steps = [step["ref"]["name"] for step in sequence["spec"]["steps"]]
    assert steps == ["thumbnails-resize", "thumbnails-watermark", "thumbnails-store"]
    assert sequence["spec"]["steps"][0]["delivery"]["deadLetterSink"]["ref"]["name"] == (
        "thumbnails-store"
    )
    trigger = _find(rendering.objects, "Trigger", "thumbnails-on-uploads")
    assert trigger["spec"]["subscriber"]["ref"] == {
        "apiVersion": "flows.knative.dev/v1",
        "kind": "Sequence",
        "name": "thumbnails",
    }
    kafka = _find(rendering.objects, "KafkaSource", "thumbnails-uploads")
    assert kafka["spec"]["topics"] == ["uploads"]


def test_an_unjoined_fan_out_becomes_a_parallel_at_the_end_of_the_sequence() -> None:
    app = load_app(FLOWS / "pure-fanout")
    rendering = render(app, Target(), images_for(app))
    assert rendering.mode == "flows"
    sequence = _find(rendering.objects, "Sequence", "notify")
    assert [s["ref"]["kind"] for s in sequence["spec"]["steps"]] == ["Service", "Parallel"]
    parallel = _find(rendering.objects, "Parallel", "notify-fork")
    subscribers = [b["subscriber"]["ref"] for b in parallel["spec"]["branches"]]
    assert [(s["kind"], s["name"]) for s in subscribers] == [
        ("Service", "notify-email"),
        ("Service", "notify-sms"),
        ("Sequence", "notify-fork-2"),
    ]
    branch = _find(rendering.objects, "Sequence", "notify-fork-2")
    assert [s["ref"]["name"] for s in branch["spec"]["steps"]] == ["notify-audit", "notify-archive"]
    assert "fork of 3 branches" in rendering.reasons[0]


def test_the_engine_can_be_forced_and_flows_refused_with_reasons() -> None:
    app = load_app(FLOWS / "pure-sequence")
    assert render(app, Target(mode="engine"), images_for(app)).mode == "engine"
    display = load_app(ROOT / "examples" / "append-display")
    with pytest.raises(ValueError, match="does not fit Knative Flows: /do/0/append"):
        render(display, Target(mode="flows"), IMAGES)


def test_a_function_without_an_image_is_refused_by_name() -> None:
    app = load_app(ROOT / "examples" / "append-display")
    with pytest.raises(MissingImages) as caught:
        render(app, Target(), {"append": "a:1"})
    assert caught.value.functions == ["display"]


def test_changing_one_image_changes_one_object() -> None:
    app = load_app(ROOT / "examples" / "append-display")
    before = render(app, Target(), IMAGES).objects
    after = render(app, Target(), {**IMAGES, "display": "reg.example/d:2"}).objects
    changed = [
        (a["kind"], a["metadata"]["name"]) for a, b in zip(before, after, strict=True) if a != b
    ]
    assert changed == [("Service", "append-display-display")]


def test_a_shared_broker_is_used_and_not_created() -> None:
    app = load_app(ROOT / "examples" / "append-display")
    objects = render(app, Target(broker="default", namespace="prod"), IMAGES).objects
    assert "Broker" not in by_kind(objects)
    trigger = _find(objects, "Trigger", "append-display-on-nightly")
    assert trigger["spec"]["broker"] == "default"
    assert {o["metadata"]["namespace"] for o in objects} == {"prod"}


def test_long_names_are_shortened_stably_and_start_with_a_letter() -> None:
    name = names.function_service("9" + "a" * 60, "f" * 40)
    assert len(name) <= names.SERVICE_NAME_LIMIT
    assert name[0].isalpha()
    assert name == names.function_service("9" + "a" * 60, "f" * 40)


CANARY = [("v1", 90, "stable"), ("v2", 10, "v2")]


def canary(app: Any, *, revision: str = "v2", traffic: Any = CANARY) -> Any:
    """append-display as its revision ``revision``, split as ``traffic``."""
    from flowapp.apps.traffic import TrafficTarget

    targets = tuple(TrafficTarget(*target) for target in traffic)
    return dataclasses.replace(app, revision=revision, traffic=targets)


def test_a_revision_split_becomes_each_services_traffic_and_passes_knatives_schema() -> None:
    app = canary(load_app(ROOT / "examples" / "append-display"))
    objects = render(app, Target(), IMAGES).objects
    for obj in objects:
        assert problems(obj) == [], (obj["kind"], obj["metadata"]["name"])
    for function in ("append", "display"):
        service = _find(objects, "Service", f"append-display-{function}")
        name = f"append-display-{function}"
        assert service["spec"]["template"]["metadata"]["name"] == f"{name}-v2"
        assert service["spec"]["traffic"] == [
            {"revisionName": f"{name}-v1", "percent": 90, "tag": "stable"},
            {"revisionName": f"{name}-v2", "percent": 10, "tag": "v2"},
        ]


def test_a_named_revision_without_a_split_routes_to_it_as_the_latest() -> None:
    app = canary(load_app(ROOT / "examples" / "append-display"), traffic=[])
    service = _find(render(app, Target(), IMAGES).objects, "Service", "append-display-append")
    assert service["spec"]["template"]["metadata"]["name"] == "append-display-append-v2"
    assert "traffic" not in service["spec"]


def test_a_change_of_split_changes_the_services_and_the_engines_split_only() -> None:
    app = load_app(ROOT / "examples" / "append-display")
    before = render(canary(app), Target(), IMAGES).objects
    after = render(canary(app, traffic=[("v1", 50, "stable"), ("v2", 50, "v2")]), Target(), IMAGES)
    changed = [
        (a["kind"], a["metadata"]["name"])
        for a, b in zip(before, after.objects, strict=True)
        if a != b
    ]
    assert changed == [
        ("Deployment", "append-display-engine"),
        ("Service", "append-display-append"),
        ("Service", "append-display-display"),
    ]


def test_the_engine_is_given_each_revisions_percent_and_tag_addresses() -> None:
    app = canary(load_app(ROOT / "examples" / "append-display"))
    deployment = _find(render(app, Target(), IMAGES).objects, "Deployment", "append-display-engine")
    env = {
        e["name"]: e.get("value")
        for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert json.loads(env["FLOWAPP_TRAFFIC"]) == [
        {
            "revision": "v1",
            "percent": 90,
            "tag": "stable",
            "urls": {
                "append": "http://stable-append-display-append.default.svc.cluster.local",
                "display": "http://stable-append-display-display.default.svc.cluster.local",
            },
        },
        {
            "revision": "v2",
            "percent": 10,
            "tag": "v2",
            "urls": {
                "append": "http://v2-append-display-append.default.svc.cluster.local",
                "display": "http://v2-append-display-display.default.svc.cluster.local",
            },
        },
    ]
    plain = _find(
        render(load_app(ROOT / "examples" / "append-display"), Target(), IMAGES).objects,
        "Deployment",
        "append-display-engine",
    )
    assert "FLOWAPP_TRAFFIC" not in str(plain)


def test_the_knative_schema_refuses_a_traffic_key_it_does_not_declare() -> None:
    app = canary(load_app(ROOT / "examples" / "append-display"))
    service = _find(render(app, Target(), IMAGES).objects, "Service", "append-display-append")
    service["spec"]["traffic"][0]["weight"] = 90  # not Knative's: it would be pruned
    assert problems(service) != []
