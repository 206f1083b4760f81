"""The operator's own objects, and the FlowApp object ``flowapp k8s resource`` prints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from flowapp.apps.loader import load_resource_data
from flowapp.operator.client import PLURALS
from flowapp.operator.manifests import operator_manifests
from flowapp.operator.objects import CHILD_KINDS
from flowapp.operator.target import Target
from tests.k8s.schemas import problems

ROOT = Path(__file__).resolve().parents[3]


def test_the_operator_manifests_pass_kubernetes_schemas_strictly() -> None:
    objects = operator_manifests("flowapp-system", Target(image_prefix="reg.example/"))
    assert [o["kind"] for o in objects] == [
        "Namespace",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Deployment",
    ]
    for obj in objects:
        assert problems(obj) == [], obj["kind"]
    container = objects[-1]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "reg.example/flowapp:0.1.0"


def test_the_role_writes_exactly_the_kinds_an_app_owns_and_reads_one_secret() -> None:
    role = operator_manifests("ns", Target(database_secret="db"))[2]
    writable = {
        (group, resource)
        for rule in role["rules"]
        if "create" in rule["verbs"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }
    owned = {
        (api.rpartition("/")[0], PLURALS[(api.rpartition("/")[0], kind)])
        for api, kind in CHILD_KINDS
    }
    assert writable - {("", "events"), ("events.k8s.io", "events")} == owned
    secrets = [rule for rule in role["rules"] if "secrets" in rule["resources"]]
    assert secrets == [
        {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["db"], "verbs": ["get"]}
    ]
    flowapps = next(rule for rule in role["rules"] if rule["resources"] == ["flowapps"])
    assert "create" not in flowapps["verbs"] and "delete" not in flowapps["verbs"]


def test_resource_prints_the_flowapp_to_apply() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "flowapp.cli.main",
            "k8s",
            "resource",
            str(ROOT / "examples" / "append-display"),
            "--image-prefix",
            "reg.example/",
            "--namespace",
            "prod",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    obj = yaml.safe_load(result.stdout)
    assert problems(obj) == []
    assert obj["metadata"] == {"name": "append-display", "namespace": "prod"}
    assert obj["spec"]["functions"]["display"]["image"].startswith(
        "reg.example/append-display-display:"
    )
    assert "path" not in obj["spec"]["functions"]["display"]
    assert [t["name"] for t in obj["spec"]["triggers"]] == ["orders", "nightly", "api"]
    assert load_resource_data(obj, file="prod/append-display").name == "append-display"
