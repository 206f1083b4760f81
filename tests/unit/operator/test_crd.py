"""The FlowApp CRD: structural, made from the resource model, and agreeing with the loader:
it accepts every example app, and refuses (strictly, as ``kubectl apply`` validates) the
structural mistakes the loader refuses."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from flowapp.apps.loader import load_app, load_resource_data
from flowapp.dsl.problems import DefinitionError
from flowapp.operator.crd import flowapp_crd
from flowapp.operator.engine import flowapp_object
from tests.k8s.schemas import problems

ROOT = Path(__file__).resolve().parents[3]
APPS = [
    ROOT / "examples" / "append-display",
    ROOT / "tests" / "fixtures" / "k8s" / "pure-sequence",
    ROOT / "tests" / "fixtures" / "k8s" / "pure-fanout",
]


def _nodes(schema: Any, pointer: str = "") -> list[tuple[str, dict[str, Any]]]:
    found = [(pointer, schema)]
    for key in ("properties", "additionalProperties", "items"):
        child = schema.get(key)
        if isinstance(child, dict) and key == "properties":
            for name, value in child.items():
                found += _nodes(value, f"{pointer}/{name}")
        elif isinstance(child, dict):
            found += _nodes(child, f"{pointer}/{key}")
    return found


def test_the_crd_is_structural() -> None:
    """Every node has a type (or keeps unknown fields), and no $ref, as Kubernetes requires."""
    version = flowapp_crd()["spec"]["versions"][0]
    schema = version["schema"]["openAPIV3Schema"]
    assert "$ref" not in json.dumps(schema)
    for pointer, node in _nodes(schema):
        assert "type" in node or node.get("x-kubernetes-preserve-unknown-fields"), pointer
        assert not ("properties" in node and "additionalProperties" in node), pointer
    for rule in schema["properties"]["spec"]["oneOf"]:
        assert "type" not in json.dumps(rule), "value validations must not declare types"
    assert version["subresources"] == {"status": {}}
    columns = [c["name"] for c in version["additionalPrinterColumns"]]
    assert columns == ["Ready", "Reason", "Revision", "Age"]


def as_object(folder: Path) -> dict[str, Any]:
    app = load_app(folder)
    images = {name: f"reg.example/{name}:1" for name in app.functions}
    return flowapp_object(app, images)


@pytest.mark.parametrize("folder", APPS, ids=lambda p: p.name)
def test_the_crd_accepts_every_example_as_flowapp_yaml_and_as_the_cluster_object(
    folder: Path,
) -> None:
    written = yaml.safe_load((folder / "flowapp.yaml").read_text())
    assert problems(written) == []
    cluster = as_object(folder)
    assert problems(cluster) == []
    assert load_resource_data(cluster, file="cluster").name == written["metadata"]["name"]


def _mutated(change: str) -> dict[str, Any]:
    resource = copy.deepcopy(yaml.safe_load((APPS[0] / "flowapp.yaml").read_text()))
    spec = resource["spec"]
    exec(change, {"spec": spec})
    return resource


# Each: a mistake, as code applied to the example's spec, and the pointer the loader reports.
MISTAKES = [
    ("spec['functons'] = {}", "/spec/functons"),
    ("spec['functions']['append']['runtime'] = 'ruby'", "/spec/functions/append/runtime"),
    ("spec['functions']['append']['scale'] = {'min': -1}", "/spec/functions/append/scale/min"),
    ("spec['functions']['append']['scale'] = {'maxx': 2}", "/spec/functions/append/scale/maxx"),
    ("spec['functions']['append']['image'] = 7", "/spec/functions/append/image"),
    ("spec['triggers'][0]['nats'] = {}", "/spec/triggers/0/nats"),
    ("spec['triggers'][0]['name'] = 'Orders'", "/spec/triggers/0/name"),
    ("spec['triggers'][0]['cron'] = {'schedule': '* * * * *'}", "/spec/triggers/0"),
    ("spec['triggers'][1]['maxInFlight'] = 3", "/spec/triggers/1/maxInFlight"),
    ("spec['triggers'][1]['cron']['catchUp'] = 'sometimes'", "/spec/triggers/1/cron/catchUp"),
    ("spec['triggers'][2]['http']['mode'] = 'later'", "/spec/triggers/2/http/mode"),
    ("spec['delivery']['retry'] = -1", "/spec/delivery/retry"),
    ("spec['delivery']['backoffPolicy'] = 'random'", "/spec/delivery/backoffPolicy"),
    ("spec['delivery']['retries'] = 1", "/spec/delivery/retries"),
    ("del spec['workflow']['document']['version']", "/spec/workflow/document"),
    ("spec['workflow']['document']['name'] = 'a b'", "/spec/workflow/document/name"),
    ("spec['workflowRef'] = 'w.yaml'", "/spec/workflowRef"),
]


@pytest.mark.parametrize(("change", "pointer"), MISTAKES, ids=[m[1] for m in MISTAKES])
def test_the_crd_refuses_what_the_loader_refuses(change: str, pointer: str, tmp_path: Path) -> None:
    resource = _mutated(change)
    assert problems(resource), "the CRD accepted it"
    (tmp_path / "flowapp.yaml").write_text(yaml.safe_dump(resource))
    (tmp_path / "w.yaml").write_text((APPS[0] / "flowapp.yaml").read_text())
    for function in ("append", "display"):
        source = APPS[0] / "functions" / function
        target = tmp_path / "functions" / function
        target.mkdir(parents=True)
        for file in source.iterdir():
            if file.is_file():
                (target / file.name).write_bytes(file.read_bytes())
    with pytest.raises(DefinitionError) as caught:
        load_app(tmp_path)
    assert pointer in [p.pointer for p in caught.value.problems]


def test_flowapp_k8s_crd_prints_it() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flowapp.cli.main", "k8s", "crd"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout) == flowapp_crd()
