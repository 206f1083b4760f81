"""The operator's engine Deployment and ``flowapp cluster-engine`` agree: what the
container is given (arguments and environment) is exactly what the command reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer

from flowapp.apps.loader import load_app
from flowapp.cli.main import app as cli
from flowapp.functions.remote import url_variable
from flowapp.operator.engine import CONFIG_DIR, CONFIG_FILE
from flowapp.operator.render import render
from flowapp.operator.target import DELIVERY_PORT, ENGINE_PORT, Target

ROOT = Path(__file__).resolve().parents[3]


def engine_container(folder: Path) -> tuple[Any, dict[str, Any]]:
    app = load_app(folder)
    images = {name: f"r/{name}:1" for name in app.functions}
    objects = render(app, Target(mode="engine"), images).objects
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    return app, deployment["spec"]["template"]["spec"]["containers"][0]


def parsed(container: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The command's parameters as the container's arguments and environment give them."""
    for variable in container["env"]:
        monkeypatch.setenv(variable["name"], variable.get("value", f"<{variable['name']}>"))
    group: Any = typer.main.get_command(cli)
    name, *args = container["args"]
    command = group.get_command(group.make_context("flowapp", [name]), name)
    assert command is not None, f"no command {name}"
    with command.make_context(name, list(args)) as context:
        return dict(context.params)


@pytest.mark.parametrize(
    "folder",
    [ROOT / "examples" / "append-display", ROOT / "tests" / "fixtures" / "k8s" / "pure-sequence"],
    ids=lambda p: p.name,
)
def test_the_rendered_container_is_a_valid_cluster_engine_command(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, container = engine_container(folder)
    params = parsed(container, monkeypatch)

    assert params["app_file"] == Path(CONFIG_DIR) / CONFIG_FILE
    assert params["db"] == "<FLOWAPP_DATABASE_URL>"  # from the Secret, not the arguments
    assert params["owner"] == "<POD_NAME>"
    assert params["broker_url"].startswith("http://broker-ingress.knative-eventing")
    assert params["host"] == "0.0.0.0"
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert (params["port"], params["delivery_port"]) == (ports["http"], ports["deliveries"])
    assert (params["port"], params["delivery_port"]) == (ENGINE_PORT, DELIVERY_PORT)
    probe = container["readinessProbe"]["httpGet"]
    assert probe == {"path": "/readyz", "port": params["delivery_port"]}
    assert params["data_dir"] == Path(container["volumeMounts"][1]["mountPath"])
    # Each function's URL is in the variable the engine reads for it.
    variables = {variable["name"] for variable in container["env"]}
    assert {url_variable(name) for name in app.functions} <= variables
    sourced = {t.name for t in app.triggers if t.kind in ("kafka", "redis")} | {
        t.name for t in app.triggers if t.kind == "cron" and t.source.schedule is not None
    }
    assert set(params["knative_source"]) == sourced


def test_the_apps_secrets_come_from_its_optional_secret_under_the_engines_name() -> None:
    from flowapp.runtime.secrets import take_environment_secrets

    _, container = engine_container(ROOT / "examples" / "append-display")
    variable = next(v for v in container["env"] if v["name"].startswith("FLOWAPP_SECRETS_"))
    reference = variable["valueFrom"]["secretKeyRef"]
    assert reference == {"name": "append-display-secrets", "key": "secrets.json", "optional": True}
    environ = {variable["name"]: '{"apiKey": "k"}'}
    assert take_environment_secrets(environ) == {"append-display": {"apiKey": "k"}}


def test_the_database_url_never_appears_in_the_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    _, container = engine_container(ROOT / "examples" / "append-display")
    assert not any("DATABASE" in arg or "--db" in arg for arg in container["args"])
    secret = next(v for v in container["env"] if v["name"] == "FLOWAPP_DATABASE_URL")
    assert "secretKeyRef" in secret["valueFrom"]


def test_a_split_reaches_the_engine_as_its_traffic_option(monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses
    import json

    from flowapp.apps.traffic import TrafficTarget
    from flowapp.cluster.split import parse_split

    app = load_app(ROOT / "examples" / "append-display")
    split = (TrafficTarget("v1", 70, "stable"), TrafficTarget("v2", 30, "v2"))
    app = dataclasses.replace(app, revision="v2", traffic=split)
    objects = render(app, Target(), {name: f"r/{name}:1" for name in app.functions}).objects
    container = next(o for o in objects if o["kind"] == "Deployment")["spec"]["template"]["spec"][
        "containers"
    ][0]
    params = parsed(container, monkeypatch)
    routes = parse_split(params["traffic"], app.functions)
    assert [(r.revision, r.percent) for r in routes] == [("v1", 70), ("v2", 30)]
    assert routes[0].urls["append"] == json.loads(params["traffic"])[0]["urls"]["append"]
